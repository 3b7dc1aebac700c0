"""PoseEstNet checkpoints: PoseEstNet-<epoch>_<steps per epoch>.ckpt holding the training cell,
the epoch reached and the steps done (global_step_done); see posekit.mindspore_train."""

from __future__ import annotations

from posekit.mindspore_train import Checkpoints

CHECKPOINTS = Checkpoints(
    "PoseEstNet",
    step_key="global_step_done",
    hint="is it a PoseEstNet checkpoint of the same MODEL.EXTRA configuration?",
)
