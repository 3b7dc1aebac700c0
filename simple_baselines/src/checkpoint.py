"""simple_baselines checkpoints: simple_baselines-<epoch>_<steps per epoch>.ckpt holding the
training cell, the epoch reached and the steps done (step); see posekit.mindspore_train."""

from __future__ import annotations

from posekit.mindspore_train import Checkpoints

CHECKPOINTS = Checkpoints(
    "simple_baselines",
    step_key="step",
    hint="is it a checkpoint of this configuration? see its config.json",
)
