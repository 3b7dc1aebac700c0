"""Checkpoints: names, listing, saving with the epoch reached, and loading weights strictly."""

from __future__ import annotations

import glob
import os
import re

import mindspore as ms

PREFIX = "PoseEstNet"
_NAME = re.compile(r"^" + PREFIX + r"-(\d+)_(\d+)\.ckpt$")
TRAIN_PREFIX = "network."  # parameters of the training cell: network.<model parameter>


def checkpoint_name(epoch, steps_per_epoch):
    return f"{PREFIX}-{epoch}_{steps_per_epoch}.ckpt"


def list_checkpoints(folder):
    """This run's checkpoints in `folder`, oldest epoch first."""
    found = []
    for path in glob.glob(os.path.join(folder, PREFIX + "-*.ckpt")):
        m = _NAME.match(os.path.basename(path))
        if m:
            found.append((int(m.group(1)), path))
    return [p for _, p in sorted(found)]


def save(train_cell, path, epoch, global_step):
    """Weights, optimizer state and the epoch reached; written under a temporary name (which
    list_checkpoints ignores) and renamed, so an interrupted save never leaves a broken file."""
    part = path[: -len(".ckpt")] + ".part.ckpt"  # save_checkpoint insists on the .ckpt suffix
    ms.save_checkpoint(
        train_cell, part, append_dict={"epoch": epoch, "global_step_done": global_step}
    )
    os.replace(part, path)


def load_weights(net, path):
    """Loads model weights from a training checkpoint (network.* names, optimizer state ignored)
    or a plain one (pthtockpt output, exported weights); every model parameter must be found."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint not found: {path}")
    params = ms.load_checkpoint(path)
    wanted = {p.name for p in net.get_parameters()}
    weights = {}
    for name, value in params.items():
        key = name[len(TRAIN_PREFIX) :] if name.startswith(TRAIN_PREFIX) else name
        if key in wanted:
            weights[key] = value
    missing = sorted(wanted - set(weights))
    if missing:
        raise ValueError(
            f"{path}: {len(missing)} model parameters missing, e.g. {missing[:3]} "
            "(is it a PoseEstNet checkpoint of the same MODEL.EXTRA configuration?)"
        )
    not_loaded, _ = ms.load_param_into_net(net, weights, strict_load=True)
    if not_loaded:
        raise ValueError(f"{path}: parameters not loaded: {not_loaded[:3]}")
    return len(weights)
