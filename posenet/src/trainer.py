"""Training machinery: the clipped train step and the optimiser (checkpoints:
posekit.mindspore_train.Checkpoints, progress: posekit.progress.Throughput)."""

from mindspore import nn, ops

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
