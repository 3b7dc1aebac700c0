"""Joints MSE loss with target weights, and the network wrapped with it for training."""

from __future__ import annotations

from mindspore import nn, ops


class JointsMSELoss(nn.Cell):
    """0.5 * mean squared error of (heatmap * weight) per joint, averaged over joints.

    The reference sums 0.5 * MSE over joints (each MSE a mean over batch and pixels) and divides
    by the number of joints; that equals 0.5 * the mean over all (batch, joint, pixel) entries.
    Joints with weight 0 (unlabelled, or outside the heatmap) contribute nothing.
    """

    def __init__(self, use_target_weight=True):
        super().__init__()
        self.use_target_weight = use_target_weight

    def construct(self, output, target, target_weight):
        if self.use_target_weight:
            w = ops.expand_dims(ops.expand_dims(target_weight, -1), -1)
            output = output * w
            target = target * w
        return 0.5 * ops.mean(ops.square(output - target))


class PoseResNetWithLoss(nn.Cell):
    """Network + loss; auto_prefix off so parameter names stay those of the bare network."""

    def __init__(self, network, loss):
        super().__init__(auto_prefix=False)
        self.network = network
        self.loss = loss

    def construct(self, image, target, target_weight):
        return self.loss(self.network(image), target, target_weight)
