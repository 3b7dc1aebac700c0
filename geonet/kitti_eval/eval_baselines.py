"""Trivial baselines for the GeoNet metrics, computed with the same evaluation code:
- Mean-Odom (SfMLearner, Zhou et al. 2017, Table 3): every snippet predicted as the mean
  frame-to-frame motion of the training sequences' ground truth;
- constant depth: one depth for every pixel (median scaling then makes it the image's median).

    python kitti_eval/eval_baselines.py --dataset_dir=KITTI --train_seqs 0 1 2 --seq_id=9 \
        --gtruth_dir=GT_SNIPPETS --out_dir=OUT [--test_file_list=LIST]
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import eval_depth  # noqa: E402

from posekit import kitti, trajectory  # noqa: E402


def mean_odom(dataset_dir, train_seqs, seq_id, gtruth_dir, out_dir, seq_length=5):
    step = trajectory.mean_odometry_step(
        [kitti.read_poses(kitti.pose_path(dataset_dir, s)) for s in train_seqs]
    )
    snippet = trajectory.constant_motion_snippet(step, seq_length)
    times = kitti.read_times(os.path.join(kitti.sequence_dir(dataset_dir, seq_id), "times.txt"))
    os.makedirs(out_dir, exist_ok=True)
    for start in range(len(times) - seq_length + 1):
        path = os.path.join(out_dir, f"{start:06d}.txt")
        trajectory.write_tum(path, times[start : start + seq_length], snippet)
    return trajectory.eval_snippet_dirs(gtruth_dir, out_dir)


def constant_depth(test_file_list, dataset_dir):
    gts = eval_depth.load_gt(test_file_list, dataset_dir)
    return eval_depth.evaluate([np.ones_like(g) for g in gts], gts)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset_dir", required=True)
    p.add_argument("--train_seqs", type=int, nargs="+", default=list(range(9)))
    p.add_argument("--seq_id", type=int, default=9)
    p.add_argument("--gtruth_dir", required=True)
    p.add_argument("--out_dir", required=True, help="where the Mean-Odom snippets go")
    p.add_argument("--seq_length", type=int, default=trajectory.SNIPPET_LENGTH)
    p.add_argument("--test_file_list", help="depth test list, for the constant-depth baseline")
    p.add_argument("--json")
    args = p.parse_args(argv)
    odom = mean_odom(args.dataset_dir, args.train_seqs, args.seq_id, args.gtruth_dir,
                     args.out_dir, args.seq_length)  # fmt: skip
    result = {"ate_snippet_mean": odom["mean"], "ate_snippet_std": odom["std"]}
    print(f"Mean-Odom ATE mean: {odom['mean']:.4f}, std: {odom['std']:.4f}")
    if args.test_file_list:
        depth = constant_depth(args.test_file_list, args.dataset_dir)
        result["abs_rel"] = depth["abs_rel"]
        print(f"constant depth abs_rel: {depth['abs_rel']:.4f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    main()
