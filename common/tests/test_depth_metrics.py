import math

import numpy as np
import pytest

from posekit import depth_metrics as dm


def test_hand_worked_errors():
    out = dm.compute_depth_errors([1.0, 2.0, 4.0], [1.0, 2.0, 2.0])
    assert out["abs_rel"] == pytest.approx(0.5 / 3)
    assert out["sq_rel"] == pytest.approx((4.0 / 4.0) / 3)
    assert out["rmse"] == pytest.approx(math.sqrt(4.0 / 3))
    assert out["rmse_log"] == pytest.approx(math.sqrt(math.log(2) ** 2 / 3))
    # the third pixel is off by a factor 2 > 1.25^3 = 1.95: 2 of 3 inside every threshold
    assert (out["a1"], out["a2"], out["a3"]) == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    out = dm.compute_depth_errors([1.0, 1.0], [1.2, 1.5])
    assert (out["a1"], out["a2"], out["a3"]) == pytest.approx((0.5, 1.0, 1.0))


def test_median_scaling_removes_global_scale_and_masks_range():
    rng = np.random.default_rng(0)
    gt = rng.uniform(2, 60, (20, 30))
    gt[0, :] = 0.0  # no measurement
    gt[1, :] = 95.0  # beyond max_depth
    out = dm.evaluate_depth_image(gt, gt * 7.5)
    assert out["abs_rel"] == pytest.approx(0.0, abs=1e-12)
    assert out["a1"] == 1.0
    assert out["scale"] == pytest.approx(1 / 7.5)
    raw = dm.evaluate_depth_image(gt, gt * 7.5, median_scaling=False)
    # unscaled predictions are clamped at 80 m, so the error is large but finite
    assert raw["abs_rel"] > 1.0 and np.isfinite(raw["rmse"])


def test_prediction_is_resized_to_ground_truth():
    gt = np.tile(np.linspace(5, 20, 16)[None], (8, 1))
    pred = np.tile(np.linspace(5, 20, 16)[None], (4, 1))[:, ::2]  # (4, 8)
    out = dm.evaluate_depth_image(gt, pred)
    assert out["abs_rel"] < 0.03


def test_constant_depth_baseline_and_mean_over_images():
    gts = [np.full((4, 4), 10.0), np.array([[5.0, 10.0], [20.0, 40.0]])]
    const = [np.ones((4, 4)), np.ones((2, 2))]
    out = dm.evaluate_depths(gts, const)
    # image 1 is exact; image 2: median 15 -> |15-g|/g = 2, .5, .25, .625
    assert out["abs_rel"] == pytest.approx((0 + (2 + 0.5 + 0.25 + 0.625) / 4) / 2)
    assert out["n"] == 2


def test_garg_crop_keeps_the_published_window():
    mask = dm.eval_mask(np.full((370, 1224), 10.0), garg_crop=True)
    rows = np.where(mask.any(1))[0]
    cols = np.where(mask.any(0))[0]
    assert (rows[0], rows[-1] + 1, cols[0], cols[-1] + 1) == (151, 366, 43, 1180)


def test_errors():
    with pytest.raises(ValueError, match="positive"):
        dm.compute_depth_errors([1.0], [0.0])
    with pytest.raises(ValueError, match="no pixel"):
        dm.evaluate_depth_image(np.zeros((3, 3)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="as many"):
        dm.evaluate_depths([np.ones((2, 2))], [])


def test_flow_epe_and_outliers():
    gt = np.zeros((2, 2, 2))
    gt[..., 0] = 100.0
    pred = gt.copy()
    pred[0, 0] = [104.0, 3.0]  # error 5 px, 5 % of 100 -> not above 5 %: inlier
    pred[0, 1] = [110.0, 0.0]  # error 10 px > 3 px and > 5 px: outlier
    out = dm.flow_epe(gt, pred)
    assert out["epe"] == pytest.approx((5 + 10) / 4)
    assert out["fl"] == pytest.approx(0.25)
    valid = np.array([[True, False], [True, True]])
    assert dm.flow_epe(gt, pred, valid)["epe"] == pytest.approx(5 / 3)
