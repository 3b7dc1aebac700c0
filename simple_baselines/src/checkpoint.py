"""Checkpoint writing, discovery and loading for training, evaluation and export."""

from __future__ import annotations

import glob
import os
import re

import mindspore as ms

PREFIX = "simple_baselines"
_NAME = re.compile(re.escape(PREFIX) + r"-(\d+)_(\d+)\.ckpt$")


def checkpoint_name(epoch, steps_per_epoch):
    return f"{PREFIX}-{epoch}_{steps_per_epoch}.ckpt"


def list_checkpoints(directory):
    """Checkpoints of this model in `directory`, oldest epoch first."""
    found = []
    for path in glob.glob(os.path.join(directory, PREFIX + "-*.ckpt")):
        m = _NAME.search(os.path.basename(path))
        if m:
            found.append((int(m.group(1)), path))
    return [p for _, p in sorted(found)]


def save(cell, path, epoch, step):
    """Writes atomically (temporary name, then rename) so a crash never leaves half a file."""
    tmp = path[: -len(".ckpt")] + ".part.ckpt"
    ms.save_checkpoint(cell, tmp, append_dict={"epoch": int(epoch), "step": int(step)})
    os.replace(tmp, path)


def load_network(net, path):
    """Loads a training or exported checkpoint into a bare PoseResNet; all weights must match."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint not found: {path}")
    params = ms.load_checkpoint(path)
    wanted = {p.name for p in net.get_parameters()}
    missing = sorted(wanted - set(params))
    if missing:
        raise ValueError(
            f"{path}: {len(missing)} network weights missing (first: {missing[:3]}); "
            "is it a checkpoint of this configuration (see its config.json)?"
        )
    ms.load_param_into_net(net, {k: v for k, v in params.items() if k in wanted}, strict_load=True)
