"""Training machinery: the clipped train step, checkpoints kept N at a time, resume, progress."""

import glob
import logging
import os
import re

import mindspore as ms
from mindspore import nn, ops

from posekit.progress import Throughput, format_duration

LOG = logging.getLogger("posenet")

_clip = ops.MultitypeFuncGraph("clip")


@_clip.register("Number", "Tensor")
def _clip_tensor(max_norm, grad):
    return ops.clip_by_norm(grad, max_norm)


class ClippedTrainStep(nn.TrainOneStepCell):
    """One optimiser step; each gradient tensor's L2 norm is clipped to `grad_clip` (0: off)
    after the data-parallel all-reduce, so every rank applies the same update."""

    def __init__(self, network, optimizer, grad_clip=0.0):
        super().__init__(network, optimizer)
        self.grad_clip = float(grad_clip)
        self.hyper_map = ops.HyperMap()

    def construct(self, *inputs):
        loss = self.network(*inputs)
        sens = ops.fill(loss.dtype, loss.shape, 1.0)
        grads = self.grad(self.network, self.weights)(*inputs, sens)
        grads = self.grad_reducer(grads)
        if self.grad_clip > 0:
            grads = self.hyper_map(ops.partial(_clip, self.grad_clip), grads)
        return ops.depend(loss, self.optimizer(grads))


def build_optimizer(params, lr, weight_decay):
    """Adagrad (the seed's); no weight decay on BatchNorm scales/offsets or loss parameters."""

    def decays(p):
        return not (
            p.name.endswith(".gamma") or p.name.endswith(".beta") or p.name.startswith("loss_")
        )

    groups = [
        {"params": [p for p in params if decays(p)], "weight_decay": weight_decay},
        {"params": [p for p in params if not decays(p)], "weight_decay": 0.0},
    ]
    groups = [g for g in groups if g["params"]]
    return nn.Adagrad(groups, learning_rate=lr)


class CheckpointManager:
    """Writes `<prefix>-<step>.ckpt` atomically and keeps the newest `keep` of them.

    Only files matching this run's prefix and pattern are ever removed; anything else in the
    directory is left alone.
    """

    def __init__(self, directory, prefix, keep=10):
        self.directory = directory
        self.prefix = prefix
        self.keep = int(keep)
        self.pattern = re.compile(re.escape(prefix) + r"-(\d+)\.ckpt$")

    def list(self):
        """[(step, path)] of this prefix's checkpoints, oldest first."""
        found = []
        for path in glob.glob(os.path.join(self.directory, self.prefix + "-*.ckpt")):
            m = self.pattern.search(os.path.basename(path))
            if m:
                found.append((int(m.group(1)), path))
        return sorted(found)

    def latest(self):
        found = self.list()
        return found[-1][1] if found else None

    def save(self, cell, step, extra=None):
        os.makedirs(self.directory, exist_ok=True)
        path = os.path.join(self.directory, f"{self.prefix}-{step}.ckpt")
        tmp = os.path.join(self.directory, f".{self.prefix}-{step}.tmp.ckpt")
        append = {"step": int(step)}
        append.update(extra or {})
        ms.save_checkpoint(cell, tmp, append_dict=append)
        os.replace(tmp, path)
        if self.keep > 0:
            for _, old in self.list()[: -self.keep]:
                os.remove(old)
        return path


def load_for_resume(cell, path):
    """Load net + optimiser state into the train cell; returns the step stored with them."""
    params = ms.load_checkpoint(path)
    if "step" not in params:
        raise ValueError(f"{path}: no 'step' entry; not a checkpoint written by this train.py")
    step = int(params.pop("step").asnumpy())
    # The rate (a per-step array with --lr_drop_step) comes from this run's flags, which may
    # train longer; the optimiser's restored global step indexes it.
    params.pop("learning_rate", None)
    not_loaded, _ = ms.load_param_into_net(cell, params)
    not_loaded = [n for n in not_loaded if n != "learning_rate"]
    if not_loaded:
        raise ValueError(f"{path}: {len(not_loaded)} parameters missing, e.g. {not_loaded[:3]}")
    return step


class Progress:
    """Log lines with step, loss, images/s (this rank and all ranks) and ETA."""

    def __init__(self, total_steps, start_step, batch_size, rank_size, steps_per_epoch):
        self.meter = Throughput(total_steps, batch_size, start_step)
        self.ranks = rank_size
        self.steps_per_epoch = max(1, steps_per_epoch)

    def restart(self, step):
        """Measure from `step` on (called after the first step, which compiles the graph)."""
        self.meter.restart(step)

    def log(self, step, loss):
        rate, _, eta = self.meter.update(step)
        epoch = (step - 1) // self.steps_per_epoch + 1
        LOG.info(
            "epoch: %d step: %d/%d, loss is %.4f, %.1f images/s (%.1f all ranks), ETA %s",
            epoch,
            step,
            self.meter.total,
            loss,
            rate,
            rate * self.ranks,
            format_duration(eta),
        )
        return rate
