"""Depth evaluation: abs rel, sq rel, rmse, rmse log, delta < 1.25^k under median scaling.

    python kitti_eval/eval_depth.py --pred_file=/out/depth/model-1000.npy \
        --test_file_list=/data/kitti_odom/test_files_depth.txt --dataset_dir=/data/kitti_odom/

Ground truth for `sequences/NN/image_2/F.png` is the 16-bit KITTI depth PNG
`sequences/NN/depth_2/F.png` (what `posekit synth kitti` writes), or under --gt_dir with the same
relative path. Predictions are upsampled to the ground truth's size; pixels with
min_depth < gt < max_depth count (and inside the Garg crop with --garg_crop).
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from posekit import depth_metrics, kitti  # noqa: E402


def gt_path_for(image_rel, dataset_dir, gt_dir=None):
    if gt_dir:
        return os.path.join(gt_dir, image_rel)
    return os.path.join(dataset_dir, image_rel.replace("image_2", "depth_2"))


def load_gt(test_file_list, dataset_dir, gt_dir=None):
    with open(test_file_list, encoding="utf-8") as f:
        rel = [line.split()[0] for line in f if line.strip()]
    gts = []
    for line_no, r in enumerate(rel, 1):
        path = gt_path_for(r, dataset_dir, gt_dir)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{test_file_list}:{line_no}: no ground-truth depth {path}")
        gts.append(kitti.read_depth_png(path))
    return gts


def evaluate(pred_depths, gts, min_depth=1e-3, max_depth=80.0, garg_crop=False):
    if len(pred_depths) != len(gts):
        raise ValueError(f"{len(pred_depths)} predictions for {len(gts)} ground-truth maps")
    return depth_metrics.evaluate_depths(
        gts, list(pred_depths), min_depth, max_depth, True, garg_crop
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pred_file", required=True, help=".npy of [N, H, W] predicted depths")
    p.add_argument("--test_file_list", required=True, help="image paths relative to dataset_dir")
    p.add_argument("--dataset_dir", required=True)
    p.add_argument("--gt_dir", help="ground-truth root mirroring the image paths")
    p.add_argument("--min_depth", type=float, default=1e-3)
    p.add_argument("--max_depth", type=float, default=80.0)
    p.add_argument("--garg_crop", action="store_true", help="Garg crop (Eigen split protocol)")
    p.add_argument("--json", help="also write the numbers to this JSON file")
    args = p.parse_args(argv)
    preds = np.load(args.pred_file)
    gts = load_gt(args.test_file_list, args.dataset_dir, args.gt_dir)
    result = evaluate(preds, gts, args.min_depth, args.max_depth, args.garg_crop)
    names = depth_metrics.METRIC_NAMES
    print(", ".join(f"{n:>10}" for n in names))
    print(", ".join(f"{result[n]:10.4f}" for n in names))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    main()
