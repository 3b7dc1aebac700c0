"""Ground-truth pose snippets from KITTI `poses/NN.txt` and `times.txt` (the reference's tool).

    python kitti_eval/generate_pose_snippets.py --dataset_dir=/data/kitti_odom/ \
        --output_dir=/data/gt/09_snippets/ --seq_id=9 --seq_length=5
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from posekit import kitti, trajectory  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset_dir", required=True, help="KITTI odometry root")
    p.add_argument("--output_dir", required=True, help="where the snippet files go")
    p.add_argument("--seq_id", type=int, default=9)
    p.add_argument("--seq_length", type=int, default=trajectory.SNIPPET_LENGTH)
    args = p.parse_args(argv)
    poses = kitti.read_poses(kitti.pose_path(args.dataset_dir, args.seq_id))
    times = kitti.read_times(
        os.path.join(kitti.sequence_dir(args.dataset_dir, args.seq_id), "times.txt")
    )
    n = trajectory.write_gt_snippets(args.output_dir, poses, times, args.seq_length)
    print(f"sequence {args.seq_id:02d}: {n} ground-truth snippets in {args.output_dir}")


if __name__ == "__main__":
    main()
