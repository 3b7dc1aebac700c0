import math

import mindspore as ms
import numpy as np
import pytest
from src.loss import PoseLoss, UncertaintyPoseLoss, build_loss

ms.set_context(mode=ms.GRAPH_MODE)
ms.set_device("CPU")

RNG = np.random.default_rng(0)
POSE = np.concatenate([RNG.normal(size=(5, 3)), RNG.normal(size=(5, 4))], 1).astype(np.float32)
OUTS = [RNG.normal(size=(5, 3 if i % 2 == 0 else 4)).astype(np.float32) for i in range(6)]


def reference_distances():
    """Per-branch mean Euclidean distances, the target quaternion normalised (numpy)."""
    x, q = POSE[:, :3], POSE[:, 3:] / np.linalg.norm(POSE[:, 3:], axis=1, keepdims=True)
    lx = [np.linalg.norm(OUTS[2 * b] - x, axis=1).mean() for b in range(3)]
    lq = [np.linalg.norm(OUTS[2 * b + 1] - q, axis=1).mean() for b in range(3)]
    return lx, lq


def call(loss):
    return float(loss(*[ms.Tensor(o) for o in OUTS], ms.Tensor(POSE)).asnumpy())


def test_weighted_loss_matches_formula():
    lx, lq = reference_distances()
    want = 3 * lx[0] + 3 * lx[1] + 10 * lx[2] + 150 * lq[0] + 150 * lq[1] + 500 * lq[2]
    assert call(PoseLoss()) == pytest.approx(want, rel=1e-5)
    paper = (0.3, 0.3, 1, 150, 150, 500)
    want = 0.3 * (lx[0] + lx[1]) + lx[2] + 150 * (lq[0] + lq[1]) + 500 * lq[2]
    assert call(PoseLoss(paper)) == pytest.approx(want, rel=1e-5)


def test_uncertainty_loss_matches_formula_at_init():
    lx, lq = reference_distances()
    want = sum(
        w * (lx[b] * math.exp(0.0) + 0.0 + lq[b] * math.exp(3.0) - 3.0)
        for b, w in enumerate((0.3, 0.3, 1.0))
    )
    loss = UncertaintyPoseLoss()
    assert call(loss) == pytest.approx(want, rel=1e-5)
    assert {p.name for p in loss.trainable_params()} == {"loss_s_x", "loss_s_q"}


def test_perfect_prediction_has_zero_weighted_loss():
    x = POSE[:, :3]
    q = POSE[:, 3:] / np.linalg.norm(POSE[:, 3:], axis=1, keepdims=True)
    perfect = [ms.Tensor(a) for a in (x, q, x, q, x, q)]
    assert float(PoseLoss()(*perfect, ms.Tensor(POSE)).asnumpy()) == pytest.approx(0.0, abs=1e-3)


def test_bad_loss_arguments():
    with pytest.raises(ValueError, match="expected 6 numbers"):
        PoseLoss((1, 2, 3))
    with pytest.raises(ValueError, match="'weighted' or 'uncertainty'"):
        build_loss("l1")
