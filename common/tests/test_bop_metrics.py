import math

import numpy as np
import pytest

from posekit import bop_metrics as m


def rot_z(deg):
    return m.axis_angle_matrix([0, 0, 1], math.radians(deg))


def box_points(a=40.0, b=20.0, c=10.0):
    """Corners and edge midpoints of a box centred at the origin (symmetric under Rz(180))."""
    g = np.array(np.meshgrid([-a, 0, a], [-b, 0, b], [-c, 0, c])).reshape(3, -1).T
    return g[np.abs(g).sum(1) > 0]


K = np.array([[500.0, 0, 320], [0, 500.0, 240], [0, 0, 1]])
T = np.array([10.0, -20.0, 600.0])


def test_identity_pose_gives_zero_for_every_error():
    pts = box_points()
    R = m.axis_angle_matrix([1, 2, 3], 0.7)
    syms = m.symmetry_transformations({})
    assert m.add(R, T, R, T, pts) == 0
    assert m.adi(R, T, R, T, pts) == pytest.approx(0, abs=1e-6)
    assert m.re(R, R) == pytest.approx(0, abs=1e-5)
    assert m.te(T, T) == 0
    assert m.mssd(R, T, R, T, pts, syms) == 0
    assert m.mspd(R, T, R, T, K, pts, syms) == 0

    def render(R_, t_):
        return plane_depth(t_)

    errs = m.vsd(R, T, R, T, plane_depth(T), K, render, diameter=100.0)
    assert errs == [0.0] * 10


def test_known_rotation_gives_known_angle_and_distances():
    # Points on a circle of radius 100 in the xy-plane; a rotation by 60 deg about z moves each
    # by the chord 2 r sin(30 deg) = 100 mm; in the image plane at z = 600 with f = 500 that
    # is 100 * 500 / 600 px for points that stay at the same depth.
    ang = np.linspace(0, 2 * np.pi, 36, endpoint=False)
    pts = np.stack([100 * np.cos(ang), 100 * np.sin(ang), np.zeros_like(ang)], 1)
    R_gt, R_est = np.eye(3), rot_z(60)
    t = np.array([0.0, 0.0, 600.0])
    assert m.re(R_est, R_gt) == pytest.approx(60.0, abs=1e-9)
    assert m.re(m.axis_angle_matrix([1, 1, 0], math.radians(135)), np.eye(3)) == pytest.approx(135)
    assert m.add(R_est, t, R_gt, t, pts) == pytest.approx(100.0)
    assert m.mssd(R_est, t, R_gt, t, pts, m.symmetry_transformations({})) == pytest.approx(100.0)
    assert m.mspd(R_est, t, R_gt, t, K, pts, [(np.eye(3), np.zeros(3))]) == pytest.approx(
        100 * 500 / 600
    )
    # The points are every 10 deg, so a 60 deg turn maps the set onto itself: ADI = 0.
    assert m.adi(R_est, t, R_gt, t, pts) == pytest.approx(0, abs=1e-6)
    assert m.te([3, 4, 0], [0, 0, 0]) == 5


def test_discrete_symmetry_rotation_gives_zero_mssd_mspd_adi_but_not_add():
    info = {"symmetries_discrete": [np.r_[-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]]}
    syms = m.symmetry_transformations(info)
    assert len(syms) == 2
    pts = box_points()
    R_gt = m.axis_angle_matrix([0.3, -1, 0.2], 1.1)
    R_est = R_gt @ rot_z(180)
    assert m.mssd(R_est, T, R_gt, T, pts, syms) == pytest.approx(0, abs=1e-9)
    assert m.mspd(R_est, T, R_gt, T, K, pts, syms) == pytest.approx(0, abs=1e-9)
    assert m.adi(R_est, T, R_gt, T, pts) == pytest.approx(0, abs=1e-5)
    # ADD pairs each point with its image: mean |p - Rz(180) p| = mean 2 * |(x, y)|.
    expected = np.mean(2 * np.linalg.norm(pts[:, :2], axis=1))
    assert m.add(R_est, T, R_gt, T, pts) == pytest.approx(expected)
    assert m.re(R_est, R_gt) == pytest.approx(180, abs=1e-6)


def test_continuous_symmetry_is_discretised_like_bop_toolkit():
    info = {"symmetries_continuous": [{"axis": [0, 0, 1], "offset": [0, 0, 0]}]}
    syms = m.symmetry_transformations(info)
    assert len(syms) == math.ceil(math.pi / 0.01) == 315
    np.testing.assert_allclose(syms[0][0], np.eye(3))
    np.testing.assert_allclose(syms[1][0], rot_z(360 / 315), atol=1e-12)
    with_disc = dict(info, symmetries_discrete=[np.eye(4).reshape(-1)])
    assert len(m.symmetry_transformations(with_disc)) == 630
    # A cylinder of radius 50 turned by an arbitrary angle about its axis: the error is at most
    # the chord of half a step, 2 * 50 * sin(pi / 630) ~ 0.5 mm, while ADD sees the full turn.
    ang = np.linspace(0, 2 * np.pi, 100, endpoint=False)
    pts = np.concatenate(
        [np.stack([50 * np.cos(ang), 50 * np.sin(ang), np.full_like(ang, z)], 1) for z in (-30, 30)]
    )
    R_est = rot_z(37.3)
    assert m.mssd(R_est, T, np.eye(3), T, pts, syms) < 2 * 50 * math.sin(math.pi / 630) + 1e-9
    assert m.add(R_est, T, np.eye(3), T, pts) > 30
    # Symmetry about an axis through an offset: t = offset - R offset keeps the axis fixed.
    off = {"symmetries_continuous": [{"axis": [0, 0, 1], "offset": [5, 0, 0]}]}
    for R, t in m.symmetry_transformations(off)[:5]:
        np.testing.assert_allclose(R @ [5, 0, 7] + t, [5, 0, 7], atol=1e-9)


def plane_depth(t, shape=(48, 64)):
    """Fake renderer: a 20 x 20 px square of constant depth t_z, shifted by t_x px."""
    d = np.zeros(shape)
    x0 = 22 + int(round(t[0] / 10))
    d[14:34, x0 : x0 + 20] = t[2]
    return d


def test_vsd_hand_worked():
    K_small = np.array([[500.0, 0, 32], [0, 500.0, 24], [0, 0, 1]])
    t_gt = np.array([0.0, 0.0, 600.0])
    test = plane_depth(t_gt)

    def render(R, t):
        return plane_depth(t)

    # Moving 20 mm back (0.2 diameter): every pixel's distance differs by 20 x f, f within
    # 1.0002 of 1 near the principal point, so the step cost is 1 for tau <= 0.2, 0 above.
    errs = m.vsd(np.eye(3), t_gt + [0, 0, 20], np.eye(3), t_gt, test, K_small, render, 100.0)
    np.testing.assert_allclose(errs, [1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    # Shifting 10 px sideways at the same depth: union 20 x 30, intersection 20 x 10, so 2/3
    # of the union is unmatched whatever tau.
    errs = m.vsd(np.eye(3), t_gt + [100, 0, 0], np.eye(3), t_gt, test, K_small, render, 100.0)
    np.testing.assert_allclose(errs, [2 / 3] * 10)
    assert m.spheres_overlap(50, [0, 0, 600], [40, 0, 600])
    assert not m.spheres_overlap(50, [0, 0, 600], [400, 0, 600])


def test_depth_to_dist():
    depth = np.full((3, 3), 100.0)
    Kd = np.array([[100.0, 0, 1], [0, 100.0, 1], [0, 0, 1]])
    dist = m.depth_to_dist(depth, Kd)
    assert dist[1, 1] == 100.0
    assert dist[0, 0] == pytest.approx(100 * math.sqrt(1 + 0.01**2 + 0.01**2))


def gt(obj, z, visib=1.0):
    return {"obj_id": obj, "R": np.eye(3), "t": np.array([0.0, 0.0, z]), "visib_fract": visib}


def est(obj, z, score, im=1):
    return {
        "scene_id": 1,
        "im_id": im,
        "obj_id": obj,
        "score": score,
        "R": np.eye(3),
        "t": np.array([0.0, 0.0, z]),
        "time": 1.0,
    }


def test_targets_matching_and_recall_hand_worked():
    gts = {(1, 1): [gt(3, 500), gt(3, 800, 0.05), gt(4, 600)]}
    targets = [
        {"scene_id": 1, "im_id": 1, "obj_id": 3, "inst_count": 1},
        {"scene_id": 1, "im_id": 1, "obj_id": 4, "inst_count": 1},
    ]
    # visib_gt_min = -1: only the most visible instance of object 3 counts.
    valid = m.valid_gt(gts, targets)
    assert valid == {(1, 1): [True, False, True]}
    assert m.valid_gt(gts, targets, visib_gt_min=0.1) == {(1, 1): [True, False, True]}
    # inst_count 1 keeps only the best-scored estimate per object; an extra object is dropped.
    ests = [est(3, 800, 0.9), est(3, 500, 0.1), est(4, 610, 0.5), est(9, 1, 1.0)]
    kept = m.select_estimates(ests, targets)
    assert sorted((e["obj_id"], e["score"]) for e in kept) == [(3, 0.9), (4, 0.5)]

    def err(e, g):
        return [abs(e["t"][2] - g["t"][2])]

    errors = m.compute_errors(kept, gts, err)
    # object 3's estimate sits on the invalid instance (error 300 to the valid one); object 4's
    # is 10 off: recall 1/2 at threshold 20, 0 at 5, 1 at 301.
    assert m.recall(errors, valid, 20) == 0.5
    assert m.recall(errors, valid, 5) == 0.0
    assert m.recall(errors, valid, 301) == 1.0
    assert m.average_recall(errors, valid, [5, 20, 301]) == pytest.approx(0.5)


def test_greedy_matching_takes_estimates_by_score():
    gts = {(1, 1): [gt(3, 500), gt(3, 530)]}
    targets = [{"scene_id": 1, "im_id": 1, "obj_id": 3, "inst_count": 2}]
    valid = m.valid_gt(gts, targets)
    # The best-scored estimate takes the instance it is closest to (530); the second one is
    # then 25 from the 500 instance.
    ests = [est(3, 525, 0.9), est(3, 525, 0.8)]
    errors = m.compute_errors(
        m.select_estimates(ests, targets), gts, lambda e, g: [abs(e["t"][2] - g["t"][2])]
    )
    assert m.recall(errors, valid, 10) == 0.5
    assert m.recall(errors, valid, 26) == 1.0


def test_bop19_scores_ground_truth_as_estimate_scores_one():
    pts = box_points()
    info = {
        3: {
            "diameter": float(np.ptp(pts, 0).max() * 1.2),
            "symmetries_discrete": [],
            "symmetries_continuous": [],
        },
        4: {
            "diameter": 100.0,
            "symmetries_discrete": [np.r_[-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]],
            "symmetries_continuous": [],
        },
    }
    gts = {(1, 1): [gt(3, 600), gt(4, 700)], (1, 2): [gt(3, 650)]}
    gts[(1, 1)][1]["t"][0] = 200.0  # object 4 beside object 3 in the fake depth image
    gts[(1, 2)][0]["R"] = rot_z(20)
    targets = [
        {"scene_id": 1, "im_id": i, "obj_id": o, "inst_count": 1}
        for i, o in [(1, 3), (1, 4), (2, 3)]
    ]
    cams = {k: {"K": K, "width": 640, "height": 480} for k in gts}
    ests = []
    for (s, i), g in gts.items():
        for x in g:
            ests.append(
                {
                    "scene_id": s,
                    "im_id": i,
                    "obj_id": x["obj_id"],
                    "score": 1.0,
                    "R": x["R"],
                    "t": x["t"],
                    "time": 0.1,
                }
            )
    # object 4 estimated turned by its symmetry: still correct for MSSD, MSPD and ADD-S
    ests[1]["R"] = rot_z(180)

    def render(obj, K_, R, t, shape):
        return plane_depth(t)

    def depth(scene, im):
        planes = [plane_depth(x["t"]) for x in gts[(scene, im)]]
        stack = np.where(np.stack(planes) > 0, np.stack(planes), np.inf).min(0)
        return np.where(np.isfinite(stack), stack, 0.0)

    out = m.bop19_scores(ests, gts, targets, info, {3: pts, 4: pts}, cams, render, depth)
    assert out["num_valid_gt"] == 3
    for key in ("mssd", "mspd", "adds_recall", "ar"):
        assert out[key] == pytest.approx(1.0), key
    assert out["ar_terms"] == "vsd,mssd,mspd"
    # a pose 1 m off scores nothing
    for e in ests:
        e["t"] = e["t"] + [1000.0, 0, 0]
    out = m.bop19_scores(ests, gts, targets, info, {3: pts, 4: pts}, cams)
    assert out["ar"] == 0.0 and out["adds_recall"] == 0.0 and out["ar_terms"] == "mssd,mspd"
