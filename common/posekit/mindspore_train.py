"""MindSpore training for the top-down models (pamtri_poseestnet, simple_baselines) and PoseNet:
device setup, the learning-rate schedule, checkpoints (naming, listing, atomic save, resume, strict
weight loading) and the epoch loop (the top-down models; PoseNet counts steps and has its own).

The one posekit module that imports MindSpore. Nothing else in posekit imports it, so posekit stays
importable in the TensorFlow env; only the MindSpore models (and their tests) use it.
"""

from __future__ import annotations

import glob
import os
import re
import sys

import mindspore as ms
import numpy as np
from mindspore.device_manager import get_current_device

from posekit.progress import Throughput, format_duration


def set_device(target, device_id=None):
    """Graph mode on `target`; a no-op when that device is already the current one (MindSpore
    refuses set_device once kernels have run, even for the same device), so scripts can be called
    again in one process (tests, notebooks)."""
    ms.set_context(mode=ms.GRAPH_MODE)
    current = get_current_device()
    if current.device_target == target and (device_id is None or current.device_id == device_id):
        return
    if target == "CPU" or device_id is None:
        ms.set_device(target)
    else:
        ms.set_device(target, device_id)


def setup_device(target, device_id, distribute):
    """-> (rank, group size): graph mode on the device; data-parallel communication (msrun, a rank
    table or mpirun) when `distribute`, with gradients averaged over the ranks."""
    if not distribute:
        set_device(target, device_id)
        return 0, 1
    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_device(target)
    from mindspore.communication import get_group_size, get_rank, init

    init()
    rank, group = get_rank(), get_group_size()
    ms.set_auto_parallel_context(
        parallel_mode=ms.ParallelMode.DATA_PARALLEL, gradients_mean=True, device_num=group
    )
    return rank, group


def weights_digest(net):
    """Sum of |w| over the trainable weights: equal on every rank when data-parallel training keeps
    the replicas in sync."""
    return float(sum(np.abs(p.asnumpy()).astype(np.float64).sum() for p in net.trainable_params()))


def multistep_lr(base_lr, factor, drop_epochs, total_epochs, steps_per_epoch):
    """Learning rate of every step from epoch 0: base_lr x factor^(drop epochs passed). The
    optimizer indexes it by its global step, which a resumed run restores."""
    epoch = np.arange(total_epochs * steps_per_epoch) // steps_per_epoch
    drops = np.sum(epoch[:, None] >= np.asarray(drop_epochs)[None, :], axis=1)
    return (base_lr * factor**drops).astype(np.float32)


def build_train_step(net_with_loss, optimizer, amp_level, device_target):
    """The training cell in train mode; `amp_level` None means O0 on CPU, O2 elsewhere, and any
    level but O0 gets a dynamic loss scale."""
    amp_level = amp_level or ("O0" if device_target == "CPU" else "O2")
    kwargs = {}
    if amp_level != "O0":
        kwargs["loss_scale_manager"] = ms.amp.DynamicLossScaleManager()
    train_step = ms.amp.build_train_network(net_with_loss, optimizer, level=amp_level, **kwargs)
    train_step.set_train()
    return train_step


class Checkpoints:
    """One model's checkpoints in a run's folder, named by the epoch reached,
    `<prefix>-<epoch>_<steps per epoch>.ckpt`, or with `per_step` (a model trained for a number of
    steps rather than epochs) by the step reached, `<prefix>-<step>.ckpt`.

    A training checkpoint holds the training cell (weights and optimizer state) plus the steps done
    under `step_key` and, when named by epoch, the epoch reached under "epoch". `hint` ends the
    error raised when a checkpoint does not fit the network (which configuration to check).
    """

    # parameters of a training cell whose loss wrapper prefixes its child: network.<model param>
    TRAIN_PREFIX = "network."

    def __init__(self, prefix, step_key, hint, per_step=False):
        self.prefix = prefix
        self.step_key = step_key
        self.hint = hint
        self.per_step = per_step
        # the entry a checkpoint is named and resumed by
        self.counter = step_key if per_step else "epoch"
        numbers = r"(\d+)" if per_step else r"(\d+)_(\d+)"
        self._name = re.compile("^" + re.escape(prefix) + "-" + numbers + r"\.ckpt$")

    def name(self, count, steps_per_epoch=None):
        """File name of the checkpoint at epoch `count` of `steps_per_epoch` steps, or with
        per_step at step `count` (no steps per epoch)."""
        if self.per_step != (steps_per_epoch is None):
            raise ValueError(
                f"{self.prefix} checkpoints are named by "
                + ("step alone" if self.per_step else "epoch and steps per epoch")
            )
        if self.per_step:
            return f"{self.prefix}-{count}.ckpt"
        return f"{self.prefix}-{count}_{steps_per_epoch}.ckpt"

    def list(self, folder):
        """This model's checkpoints in `folder`, oldest first (temporary .part files left by an
        interrupted save are not listed)."""
        found = []
        for path in glob.glob(os.path.join(folder, self.prefix + "-*.ckpt")):
            m = self._name.match(os.path.basename(path))
            if m:
                found.append((int(m.group(1)), path))
        return [p for _, p in sorted(found)]

    def prepare(self, folder, resume, folder_flag):
        """Creates the output folder -> the checkpoints already in it. Exits if there are some and
        `resume` is None: a new run must not overwrite another one's checkpoints."""
        os.makedirs(folder, exist_ok=True)
        existing = self.list(folder)
        if existing and resume is None:
            sys.exit(
                f"{folder} already holds checkpoints ({os.path.basename(existing[-1])}); pass "
                f"--resume auto to continue that run, or choose another {folder_flag}"
            )
        return existing

    def save(self, train_cell, path, step, epoch=None):
        """Weights, optimizer state, step and (named by epoch) epoch; written under a temporary
        name and renamed, so an interrupted save never leaves a broken checkpoint."""
        counts = {} if self.per_step else {"epoch": int(epoch)}
        counts[self.step_key] = int(step)
        part = path[: -len(".ckpt")] + ".part.ckpt"  # save_checkpoint insists on the .ckpt suffix
        ms.save_checkpoint(train_cell, part, append_dict=counts)
        os.replace(part, path)

    def restore(self, train_cell, path):
        """Loads the training checkpoint `path` into the training cell (each saved parameter must
        belong to it) -> the epoch it reached (with per_step, the step)."""
        params = ms.load_checkpoint(path)
        if self.counter not in params:
            sys.exit(
                f"{path} is not a training checkpoint of train.py (no {self.counter} recorded)"
            )
        count = int(params.pop(self.counter).asnumpy())
        params.pop(self.step_key, None)
        # the rate comes from this run's settings (which may train longer); the optimizer's
        # restored global step indexes into it
        params.pop("learning_rate", None)
        not_loaded, _ = ms.load_param_into_net(train_cell, params)
        not_loaded = [n for n in not_loaded if n != "learning_rate"]
        if not_loaded:
            sys.exit(f"{path}: {len(not_loaded)} parameters not in this model: {not_loaded[:3]}")
        return count

    def resume(self, train_cell, resume, existing, begin):
        """Restores the training cell from `resume` (a path, or "auto": the latest of `existing`)
        -> the epoch (with per_step, the step) to start from, `begin` when there is nothing to
        resume."""
        path = existing[-1] if resume == "auto" and existing else resume
        if not path or path == "auto":
            return begin
        count = self.restore(train_cell, path)
        print(f"resumed from {path} at {self.counter} {count}", flush=True)
        return count

    def load_weights(self, net, path):
        """Loads the network's weights from a training or plain checkpoint (see load_weights)."""
        load_weights(net, path, self.hint)


def load_weights(net, path, hint):
    """Loads the network's weights from a training checkpoint (optimizer state ignored) or a plain
    one (converted or exported weights); every network parameter must be found with its shape.
    `hint` ends the error raised when the checkpoint does not fit (which configuration to check)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint not found: {path}")
    params = ms.load_checkpoint(path)
    wanted = {p.name: tuple(p.shape) for p in net.get_parameters()}
    weights = {}
    prefix = Checkpoints.TRAIN_PREFIX
    for name, value in params.items():
        key = name[len(prefix) :] if name.startswith(prefix) else name
        if key in wanted:
            weights[key] = value
    missing = sorted(set(wanted) - set(weights))
    if missing:
        raise ValueError(
            f"{path}: {len(missing)} model parameters missing, e.g. {missing[:3]} ({hint})"
        )
    for key, value in weights.items():
        if tuple(value.shape) != wanted[key]:
            raise ValueError(
                f"{path}: {key} has shape {tuple(value.shape)}, the network expects "
                f"{wanted[key]} ({hint})"
            )
    not_loaded, _ = ms.load_param_into_net(net, weights, strict_load=True)
    if not_loaded:
        raise ValueError(f"{path}: parameters not loaded: {not_loaded[:3]}")


def train_epochs(
    train_step,
    dataset,
    net,
    *,
    checkpoints,
    out_dir,
    rank,
    begin_epoch,
    end_epoch,
    steps_per_epoch,
    lr,
    images_per_step,
    save_every,
    keep,
    log_format,
    log_interval=20,
    max_steps=None,
):
    """Trains epochs begin_epoch..end_epoch - 1 (or until `max_steps` steps) over the batches of
    `dataset`, each batch's columns passed to `train_step`.

    Logs a line every `log_interval` steps, at the end of each epoch and at the last step, made
    by `log_format` from epoch, epochs, step, steps, loss, lr (of that step in the per-step
    schedule `lr`), speed (images/s) and eta (H:MM:SS); exits on a non-finite loss. Rank 0 saves
    a checkpoint every `save_every` epochs and at the end, keeping this run's last `keep`. Ends
    with the weights digest of `net`, which data-parallel ranks must agree on.
    """
    epochs = max(end_epoch - begin_epoch, 0)
    total_steps = epochs * steps_per_epoch
    if max_steps is not None:
        total_steps = min(total_steps, max_steps)
    iterator = dataset.create_tuple_iterator(num_epochs=max(epochs, 1))
    written = []
    done, meter = 0, Throughput(total_steps, images_per_step)
    for epoch in range(begin_epoch, end_epoch):
        if done >= total_steps:
            break
        for i, columns in enumerate(iterator):
            out = train_step(*columns)
            loss = out[0] if isinstance(out, tuple) else out
            done += 1
            if done % log_interval == 0 or i + 1 == steps_per_epoch or done == total_steps:
                value = float(loss.asnumpy())
                speed, _, eta = meter.update(done)
                step_lr = lr[min(epoch * steps_per_epoch + i, len(lr) - 1)]
                line = log_format.format(
                    epoch=epoch + 1, epochs=end_epoch, step=i + 1, steps=steps_per_epoch,
                    loss=value, lr=step_lr, speed=speed, eta=format_duration(eta),
                )  # fmt: skip
                print(line, flush=True)
                if not np.isfinite(value):
                    sys.exit(f"loss is {value} at epoch {epoch + 1} step {i + 1}: stopping")
            if done >= total_steps:
                break
        finished = epoch + 1
        last = finished == end_epoch or done >= total_steps
        if rank == 0 and (finished % save_every == 0 or last):
            path = os.path.join(out_dir, checkpoints.name(finished, steps_per_epoch))
            checkpoints.save(train_step, path, done, epoch=finished)
            written.append(path)
            print(f"saved {path}", flush=True)
            while len(written) > keep:
                os.remove(written.pop(0))  # only checkpoints this run wrote
    print(f"rank {rank}: final weights digest {weights_digest(net):.6f}", flush=True)
