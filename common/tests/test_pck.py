"""posekit.pck: VeRi PCK under the reference protocol and the honest one."""

from __future__ import annotations

import math

import numpy as np
import pytest

from posekit import pck, veri


def literal_reference(preds, gt_rows):
    """The reference formula re-derived step by step with plain Python lists.

    preds: N rows of 36 (x, y, score); gt_rows: N rows of 36 (x, y, vis) as read from the CSV.
    The per-image box starts as ONE list bound to both corner names, so updating the minimum
    also moves the maximum; the per-image sizes are then combined by a norm over all images.
    """
    area_sqrts = []
    for row in gt_rows:
        top_left = bottom_right = [row[0][0], row[0][1]]  # one list, two names
        for x, y, _ in row:
            if x < top_left[0]:
                top_left[0] = x
            if y < top_left[1]:
                top_left[1] = y
            if x > bottom_right[0]:
                bottom_right[0] = x
            if y > bottom_right[1]:
                bottom_right[1] = y
        area_sqrts.append(
            math.sqrt((bottom_right[0] - top_left[0] + 1) * (bottom_right[1] - top_left[1] + 1))
        )
    scale = 0.25 * math.sqrt(sum(a * a for a in area_sqrts))
    thresholds = np.arange(0, 0.5 + 0.01, 0.01)  # the reference's range; [11] is 0.11
    per_joint, per_joint_low, counts = [], [], []
    for k in range(36):
        count = hit = hit_low = 0
        for p_row, g_row in zip(preds, gt_rows):
            vis = g_row[k][2]
            err = math.sqrt(sum((p_row[k][c] - g_row[k][c]) ** 2 for c in range(3)))
            if vis:
                count += 1
                hit += err / scale <= 0.5
                hit_low += err / scale <= thresholds[11]
        counts.append(count)
        per_joint.append(100.0 * hit / count)
        per_joint_low.append(100.0 * hit_low / count)
    total = sum(counts)
    table = {}
    for name, joints in veri.PARTS:
        table[name] = sum(per_joint[k] for k in joints) / len(joints)
    table["Mean"] = sum(per_joint[k] * counts[k] / total for k in range(36))
    table["Mean@0.1"] = sum(per_joint_low[k] * counts[k] / total for k in range(36))
    return table, scale


def _random_set(n, seed):
    rng = np.random.default_rng(seed)
    gt = rng.integers(0, 300, (n, 36, 2)).astype(float)
    vis = rng.integers(0, 2, (n, 36))
    vis[0] = 1  # every joint visible somewhere
    pred = gt + rng.normal(0, rng.uniform(0.5, 12, (n, 1, 1)), (n, 36, 2))
    scores = rng.uniform(0, 1.1, (n, 36))
    return pred, gt, vis, scores


@pytest.mark.parametrize("with_scores", [True, False])
def test_reference_equals_an_independent_recomputation(with_scores):
    pred, gt, vis, scores = _random_set(57, seed=11)
    if not with_scores:
        scores = np.asarray(vis, float)  # score == vis: the third coordinate adds nothing
    preds = [[(p[0], p[1], s) for p, s in zip(pr, sr)] for pr, sr in zip(pred, scores)]
    gts = [[(g[0], g[1], v) for g, v in zip(gr, vr)] for gr, vr in zip(gt, vis)]
    expected, scale = literal_reference(preds, gts)
    got = pck.pck_reference(pred, gt, vis, scores if with_scores else None)
    assert scale == pytest.approx(0.25 * math.sqrt(57))
    assert np.allclose(got.normaliser, scale)
    assert list(got.table) == list(expected) == list(pck.COLUMNS)
    for name in expected:
        assert got.table[name] == pytest.approx(expected[name], abs=1e-9), name


def test_reference_normaliser_is_the_collapsed_constant():
    assert pck.reference_normaliser(1060) == pytest.approx(8.1394, abs=1e-4)
    assert pck.REFERENCE_LOW == pytest.approx(0.11)
    assert pck.HONEST_LOW == 0.1


def test_honest_differs_from_reference_exactly_where_the_normaliser_differs():
    # 16 images: reference normaliser 0.25 * sqrt(16) = 1 px. Images 0-7 have a 4 x 4 px joint
    # box (0.25 * sqrt(16) = 1 px, the same), images 8-15 a 64 x 64 px box (16 px).
    n = 16
    rng = np.random.default_rng(2)
    gt = np.zeros((n, 36, 2))
    for i in range(n):
        extent = 3.0 if i < 8 else 63.0
        gt[i] = rng.uniform(0, extent, (36, 2))
        gt[i, 0], gt[i, 1] = (0, 0), (extent, extent)  # pin the box
    errors = rng.choice([0.2, 0.45, 0.7, 3.0, 7.5, 9.0], size=(n, 36))
    angle = rng.uniform(0, 2 * np.pi, (n, 36))
    pred = gt + errors[..., None] * np.stack([np.cos(angle), np.sin(angle)], -1)
    vis = rng.integers(0, 2, (n, 36))
    vis[0] = vis[8] = 1
    ref = pck.pck_reference(pred, gt, vis)
    hon = pck.pck_honest(pred, gt, vis)
    assert np.allclose(ref.normaliser, 1.0)
    assert np.allclose(hon.normaliser[:8], 1.0) and np.allclose(hon.normaliser[8:], 16.0)
    differ = ref.hits != hon.hits
    assert not differ[:8].any()  # equal normaliser -> identical decisions
    # unequal normaliser: the decisions differ exactly for visible joints between the thresholds
    between = (vis > 0) & (errors > 0.5 * 1.0) & (errors <= 0.5 * 16.0)
    assert (differ[8:] == between[8:]).all() and between[8:].any()


def test_low_threshold_reads_0_11_in_reference_and_0_10_in_honest():
    # one image whose joint box gives the same normaliser as the reference (N = 1 -> 0.25 px)
    gt = np.zeros((1, 36, 2))  # box 1 x 1 px -> honest normaliser 0.25 px too
    pred = gt + np.array([0.105 * 0.25, 0.0])  # scaled error 0.105: inside 0.11, outside 0.10
    vis = np.ones((1, 36))
    ref = pck.pck_reference(pred, gt, vis)
    hon = pck.pck_honest(pred, gt, vis)
    assert ref.table["Mean"] == pytest.approx(100) and hon.table["Mean"] == pytest.approx(100)
    assert ref.table["Mean@0.1"] == pytest.approx(100) and hon.table["Mean@0.1"] == 0.0


def test_score_term_of_the_reference():
    gt = np.zeros((4, 36, 2))
    vis = np.ones((4, 36))
    # normaliser 0.25 * 2 = 0.5 px: threshold 0.25 px. Exact points, score 0.5 -> error 0.5.
    assert pck.pck_reference(gt, gt, vis, np.full((4, 36), 0.5)).table["Mean"] == 0.0
    assert pck.pck_reference(gt, gt, vis, np.ones((4, 36))).table["Mean"] == pytest.approx(100)
    assert pck.pck_honest(gt, gt, vis).table["Mean"] == pytest.approx(100)


def test_aggregation_parts_are_plain_means_and_mean_is_weighted():
    gt = np.tile(np.array([[0.0, 0.0], [100.0, 100.0]]), (1, 18, 1))
    gt = np.repeat(gt, 4, axis=0)  # 4 images, box 101 x 101 -> honest normaliser 25.25 px
    vis = np.ones((4, 36))
    vis[:3, 1] = 0  # joint 1 visible once
    vis[:, 5] = 0  # joint 5 never visible
    pred = gt.copy()
    pred[3, 1] += 50  # the one visible joint 1 is wrong
    res = pck.pck_honest(pred, gt, vis)
    assert res.counts[1] == 1 and res.per_joint[1] == 0.0 and np.isnan(res.per_joint[5])
    assert res.table["Wheel"] == pytest.approx((100 + 0 + 100 + 100) / 4)  # plain mean
    fender = [k for k in range(2, 10) if k != 5] + list(range(20, 28))
    assert res.table["Fender"] == pytest.approx(100.0 * len(fender) / len(fender))
    total = res.counts.sum()
    assert res.table["Mean"] == pytest.approx(100.0 * (total - 1) / total)  # pooled


def test_table_format_is_the_seeds():
    gt = np.zeros((2, 36, 2))
    res = pck.pck_honest(gt, gt, np.ones((2, 36)))
    lines = pck.format_table(res).splitlines()
    assert lines[0] == (
        "| Arch | Wheel | Fender | Back | Front | WindshieldBack | WindshieldFront | Mean "
        "| Mean@0.1 |"
    )
    assert lines[1] == "| --- " * 9 + "|"
    assert lines[2] == "| pose_hrnet " + "| 100.000 " * 8 + "|"
    text = pck.report([res, pck.pck_reference(gt, gt, np.ones((2, 36)))])
    assert "honest protocol" in text and "reference protocol" in text


def test_bad_shapes_are_rejected():
    gt = np.zeros((2, 36, 2))
    with pytest.raises(ValueError, match=r"pred: expected shape \(2, 36, 2\)"):
        pck.pck_honest(np.zeros((2, 35, 2)), gt, np.ones((2, 36)))
    with pytest.raises(ValueError, match=r"visible: expected shape \(2, 36\)"):
        pck.pck_reference(gt, gt, np.ones((3, 36)))
    with pytest.raises(ValueError, match="non-finite"):
        pck.pck_honest(gt + np.nan, gt, np.ones((2, 36)))
