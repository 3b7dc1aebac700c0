"""Training machinery: the clipped train step, the optimiser, progress (checkpoints:
posekit.mindspore_train.Checkpoints)."""

import logging

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
