"""JointsMSELoss (HRNet): 0.5 * mean over joints of the MSE between predicted and target
heatmaps, both multiplied by the joint's weight (its visibility)."""

from __future__ import annotations

import mindspore.nn as nn
import mindspore.ops as ops


class JointsMSELoss(nn.Cell):
    def __init__(self, use_target_weight=True):
        super().__init__()
        self.use_target_weight = use_target_weight

    def construct(self, output, target, target_weight):
        diff = output - target
        if self.use_target_weight:
            diff = diff * ops.expand_dims(ops.expand_dims(target_weight, -1), -1)
        # mean over batch and pixels per joint, averaged over joints = mean over everything
        return 0.5 * ops.mean(diff * diff)


class NetWithLoss(nn.Cell):
    def __init__(self, network, use_target_weight=True):
        super().__init__()
        self.network = network
        self.loss = JointsMSELoss(use_target_weight)

    def construct(self, image, target, target_weight):
        return self.loss(self.network(image), target, target_weight)
