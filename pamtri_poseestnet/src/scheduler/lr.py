"""Multi-step learning rate: lr x factor^(number of LR_STEP epochs passed), one value per step."""

from __future__ import annotations

import numpy as np


def get_lr(lr, total_epochs, steps_per_epoch, lr_step, gamma):
    epoch = np.arange(total_epochs * steps_per_epoch) // steps_per_epoch
    drops = np.sum(epoch[:, None] >= np.asarray(lr_step)[None, :], axis=1)
    return (lr * gamma**drops).astype(np.float32)
