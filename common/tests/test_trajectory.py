import math
import os

import numpy as np
import pytest

from posekit import geometry, trajectory


def smooth_trajectory(rng, n=30):
    """Camera-to-world poses of a car-like path: forward motion with varying yaw and speed."""
    poses, T = [], np.eye(4)
    for _ in range(n):
        poses.append(T.copy())
        yaw = rng.normal(0, 0.03)
        step = geometry.make_pose(
            geometry.euler_to_matrix(0, yaw, 0), [0, 0, rng.uniform(0.5, 1.5)]
        )
        T = T @ step
    return np.stack(poses)


def reference_snippet_ate(gt_path, pred_path):
    """Independent re-computation of the SfMLearner/GeoNet formula from the two text files."""

    def parse(path):
        rows = {}
        for line in open(path):
            vals = line.split()
            rows[float(vals[0])] = [float(v) for v in vals[1:4]]
        return rows

    gt, pred = parse(gt_path), parse(pred_path)
    stamps = sorted(set(gt) & set(pred))
    g = [gt[s] for s in stamps]
    p = [pred[s] for s in stamps]
    off = [g[0][k] - p[0][k] for k in range(3)]
    p = [[row[k] + off[k] for k in range(3)] for row in p]
    num = sum(g[i][k] * p[i][k] for i in range(len(g)) for k in range(3))
    den = sum(p[i][k] ** 2 for i in range(len(g)) for k in range(3))
    s = num / den
    sq = sum((p[i][k] * s - g[i][k]) ** 2 for i in range(len(g)) for k in range(3))
    return math.sqrt(sq) / len(g)


def test_snippet_ate_hand_worked():
    gt = [[0, 0, 0], [1, 0, 0]]
    pred = [[5, 5, 5], [6, 6, 5]]  # shifted onto gt[0] -> (0,0,0), (1,1,0); s = 1/2
    assert trajectory.snippet_ate(gt, pred) == pytest.approx(math.sqrt(0.5) / 2)
    assert trajectory.snippet_ate(gt, [[0, 0, 0], [3, 0, 0]]) == 0.0


def test_snippet_ate_matches_reference_formula_on_files(tmp_path):
    rng = np.random.default_rng(3)
    poses = smooth_trajectory(rng)
    times = np.arange(len(poses)) * 0.1036
    gt_dir, pred_dir = str(tmp_path / "gt"), str(tmp_path / "pred")
    n = trajectory.write_gt_snippets(gt_dir, poses, times)
    assert n == len(poses) - 4
    os.makedirs(pred_dir)
    for start, rel in trajectory.gt_snippets(poses):
        pred = rel.copy()
        if start != 7:  # snippet 7 is predicted exactly: its error 0 must count
            pred[:, :3, 3] = 0.3 * rel[:, :3, 3] + rng.normal(0, 0.05, (5, 3))
        trajectory.write_tum(
            os.path.join(pred_dir, f"{start:06d}.txt"), times[start : start + 5], pred
        )
    result = trajectory.eval_snippet_dirs(gt_dir, pred_dir)
    expected = [
        reference_snippet_ate(os.path.join(gt_dir, f), os.path.join(pred_dir, f))
        for f in sorted(os.listdir(pred_dir))
    ]
    assert result["n"] == len(expected) == n
    assert result["errors"]["000007.txt"] == 0.0
    assert result["mean"] == pytest.approx(np.mean(expected), rel=1e-12)
    assert result["std"] == pytest.approx(np.std(expected), rel=1e-12)
    # The reference code's `if ate == False: continue` would have dropped the exact snippet.
    dropped = [e for e in expected if e != 0.0]
    assert result["mean"] < np.mean(dropped)


def test_eval_skips_snippets_without_matching_stamps(tmp_path):
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    gt.mkdir()
    pred.mkdir()
    (gt / "000000.txt").write_text("0.0 0 0 0 0 0 0 1\n0.1 1 0 0 0 0 0 1\n")
    (pred / "000000.txt").write_text("0.0 0 0 0 0 0 0 1\n0.1 2 0 0 0 0 0 1\n")
    (gt / "000001.txt").write_text("0.1 0 0 0 0 0 0 1\n0.2 1 0 0 0 0 0 1\n")
    (pred / "000001.txt").write_text("5.0 0 0 0 0 0 0 1\n6.0 1 0 0 0 0 0 1\n")
    (pred / "000002.txt").write_text("0.2 0 0 0 0 0 0 1\n0.3 1 0 0 0 0 0 1\n")
    result = trajectory.eval_snippet_dirs(str(gt), str(pred))
    assert (result["n"], result["n_skipped"], result["n_without_gt"]) == (1, 1, 1)
    assert result["mean"] == 0.0
    (pred / "000000.txt").write_text("0.0 0 0 0\n")
    with pytest.raises(ValueError, match=r"000000.txt:1: expected 'time tx ty tz qx qy qz qw'"):
        trajectory.eval_snippet_dirs(str(gt), str(pred))


def test_associate_uses_tolerance_and_closest_first():
    a = np.array([0.0, 0.1, 0.2])
    b = np.array([0.004, 0.098, 0.35])
    assert trajectory.associate(a, b) == [(0, 0), (1, 1)]


def test_tum_round_trip_of_positions(tmp_path):
    rng = np.random.default_rng(0)
    poses = smooth_trajectory(rng, 5)
    path = str(tmp_path / "s.txt")
    trajectory.write_tum(path, [0.0, 0.1, 0.2, 0.3, 0.4], poses)
    stamps, xyz = trajectory.read_tum(path)
    np.testing.assert_allclose(stamps, [0, 0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(xyz, poses[:, :3, 3], atol=1e-6)
    qx, qy, qz, qw = [float(v) for v in open(path).readlines()[3].split()[4:]]
    np.testing.assert_allclose(
        geometry.quat_to_matrix([qw, qx, qy, qz]), poses[3, :3, :3], atol=1e-5
    )


def test_pose_vectors_to_snippet_and_chain():
    rng = np.random.default_rng(1)
    poses = smooth_trajectory(rng, 12)
    # What a perfect PoseNet outputs for the snippet centred on frame 2: target-to-source
    # transforms inv(P_src) @ P_tgt as (t, Euler) for sources 0, 1, 3, 4.
    tgt = poses[2]
    vecs = []
    for k in (0, 1, 3, 4):
        M = geometry.invert(poses[k]) @ tgt
        vecs.append(geometry.matrix_to_pose_vec(M))
    snippet = trajectory.snippet_from_pose_vectors(np.array(vecs))
    np.testing.assert_allclose(snippet, trajectory.relative_to_first(poses[:5]), atol=1e-10)
    chained = trajectory.chain_snippets([rel for _, rel in trajectory.gt_snippets(poses)])
    np.testing.assert_allclose(chained, trajectory.relative_to_first(poses), atol=1e-10)


def test_sim3_ate_recovers_known_similarity():
    rng = np.random.default_rng(2)
    gt = smooth_trajectory(rng, 40)[:, :3, 3]
    R = geometry.euler_to_matrix(0.3, -0.7, 1.1)
    s, t = 0.37, np.array([4.0, -2.0, 9.0])
    pred = (gt - t) @ R / s  # gt = s R pred + t
    result = trajectory.ate_sim3(gt, pred)
    assert result["rmse"] < 1e-9
    assert result["scale"] == pytest.approx(s, rel=1e-9)
    np.testing.assert_allclose(result["rotation"], R, atol=1e-9)
    np.testing.assert_allclose(result["translation"], t, atol=1e-9)
    noisy = pred + rng.normal(0, 0.01, pred.shape)
    assert 0.001 < trajectory.ate_sim3(gt, noisy)["rmse"] < 0.01


def test_rpe_known_values():
    steps = [1.0, 1.0, 1.1, 1.0]
    gt, pred = [np.eye(4)], [np.eye(4)]
    for d in steps:
        gt.append(gt[-1] @ geometry.make_pose(np.eye(3), [0, 0, 1.0]))
        pred.append(pred[-1] @ geometry.make_pose(np.eye(3), [0, 0, 2 * d]))
    result = trajectory.rpe(np.stack(gt), np.stack(pred), delta=1, scale=0.5)
    assert result["pairs"] == 4
    assert result["trans_rmse"] == pytest.approx(math.sqrt(0.1**2 / 4))
    assert result["rot_rmse_deg"] == pytest.approx(0.0, abs=1e-9)
    turned = [p.copy() for p in gt]
    turned[3] = turned[3] @ geometry.make_pose(
        geometry.euler_to_matrix(0, math.radians(2), 0), [0, 0, 0]
    )
    rot = trajectory.rpe(np.stack(gt), np.stack(turned))
    # frame 3 turned by 2 degrees: pairs (2,3) and (3,4) each see 2 degrees.
    assert rot["rot_rmse_deg"] == pytest.approx(math.sqrt(2 * 4 / 4), rel=1e-6)


def test_mean_odometry_baseline():
    step = geometry.make_pose(geometry.euler_to_matrix(0, 0.02, 0), [0, 0, 1.2])
    poses = [np.eye(4)]
    for _ in range(10):
        poses.append(poses[-1] @ step)
    mean = trajectory.mean_odometry_step([np.stack(poses)])
    np.testing.assert_allclose(mean, step, atol=1e-12)
    snippet = trajectory.constant_motion_snippet(mean)
    np.testing.assert_allclose(
        snippet, trajectory.relative_to_first(np.stack(poses[:5])), atol=1e-12
    )
    with pytest.raises(ValueError, match="odd"):
        trajectory.gt_snippets(np.stack(poses), 4)
