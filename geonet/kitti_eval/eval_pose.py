"""Pose evaluation: the GeoNet/SfMLearner snippet ATE, and full-trajectory Sim(3) ATE and RPE.

    python kitti_eval/eval_pose.py --gtruth_dir=/data/gt/09_snippets/ --pred_dir=/out/pose/
prints `ATE mean: M, std: S` over 5-frame snippets (DESIGN.md section 5; unlike the reference,
snippets whose error is exactly 0 count). With --dataset_dir and --seq_id it also chains the
predicted snippets into a trajectory, reports evo-style ATE RMSE after Sim(3) alignment and RPE
(1 frame), and with --plot draws ground truth against the aligned prediction.
"""

import argparse
import glob
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from posekit import geometry, kitti, trajectory  # noqa: E402


def read_snippet_poses(path):
    """TUM snippet file -> (N, 4, 4) poses (quaternions are x y z w in TUM order)."""
    poses = []
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            vals = line.split()
            if not vals or vals[0].startswith("#"):
                continue
            if len(vals) != 8:
                raise ValueError(f"{path}:{line_no}: expected 8 values, found {len(vals)}")
            t = [float(v) for v in vals[1:4]]
            qx, qy, qz, qw = (float(v) for v in vals[4:8])
            poses.append(geometry.make_pose(geometry.quat_to_matrix([qw, qx, qy, qz]), t))
    return np.stack(poses)


def chained_prediction(pred_dir):
    files = sorted(glob.glob(os.path.join(pred_dir, "*.txt")))
    starts = [int(os.path.basename(f)[:-4]) for f in files]
    if starts != list(range(starts[0], starts[0] + len(starts))):
        raise ValueError(f"{pred_dir}: snippet files must be consecutive to chain a trajectory")
    return starts[0], trajectory.chain_snippets([read_snippet_poses(f) for f in files])


def plot_trajectories(path, gt_xyz, pred_xyz, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
    ax.plot(gt_xyz[:, 0], gt_xyz[:, 2], "k-", lw=2, label="ground truth")
    ax.plot(pred_xyz[:, 0], pred_xyz[:, 2], "r--", lw=1.5, label="GeoNet (chained, Sim(3)-aligned)")
    ax.plot(gt_xyz[0, 0], gt_xyz[0, 2], "go", label="start")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("z (m)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(title)
    ax.legend(loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def evaluate(gtruth_dir, pred_dir, dataset_dir=None, seq_id=None, plot=None):
    snip = trajectory.eval_snippet_dirs(gtruth_dir, pred_dir)
    result = {
        "ate_snippet_mean": snip["mean"],
        "ate_snippet_std": snip["std"],
        "snippets": snip["n"],
        "snippets_skipped": snip["n_skipped"],
    }
    if dataset_dir is not None and seq_id is not None:
        start, pred = chained_prediction(pred_dir)
        gt_all = kitti.read_poses(kitti.pose_path(dataset_dir, seq_id))
        gt = trajectory.relative_to_first(gt_all[start : start + len(pred)])
        if len(gt) != len(pred):
            raise ValueError(f"{len(pred)} chained poses but only {len(gt)} ground-truth poses")
        ate = trajectory.ate_sim3(gt[:, :3, 3], pred[:, :3, 3])
        rpe = trajectory.rpe(gt, pred, delta=1, scale=ate["scale"])
        result.update(
            ate_sim3_rmse=ate["rmse"],
            sim3_scale=ate["scale"],
            rpe_trans_rmse=rpe["trans_rmse"],
            rpe_rot_rmse_deg=rpe["rot_rmse_deg"],
        )
        if plot:
            title = f"sequence {seq_id:02d}: ATE {ate['rmse']:.2f} m (Sim(3)), {len(gt)} frames"
            plot_trajectories(plot, gt[:, :3, 3], ate["aligned"], title)
    return result


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gtruth_dir", required=True, help="ground-truth snippets")
    p.add_argument("--pred_dir", required=True, help="predicted snippets")
    p.add_argument("--dataset_dir", help="KITTI root, for the full-trajectory metrics")
    p.add_argument("--seq_id", type=int, help="sequence of the snippets")
    p.add_argument("--plot", help="PNG path for the trajectory plot")
    p.add_argument("--json", help="also write the numbers to this JSON file")
    args = p.parse_args(argv)
    result = evaluate(args.gtruth_dir, args.pred_dir, args.dataset_dir, args.seq_id, args.plot)
    print(f"Predictions dir: {args.pred_dir}")
    print(f"ATE mean: {result['ate_snippet_mean']:.4f}, std: {result['ate_snippet_std']:.4f} "
          f"({result['snippets']} snippets)")  # fmt: skip
    if "ate_sim3_rmse" in result:
        print(
            f"Trajectory: ATE RMSE (Sim(3)) {result['ate_sim3_rmse']:.4f} m, RPE "
            f"{result['rpe_trans_rmse']:.4f} m / {result['rpe_rot_rmse_deg']:.4f} deg per frame"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    main()
