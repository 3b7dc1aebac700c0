"""Flow evaluation: mean end-point error and KITTI Fl outliers against KITTI flow PNGs.

    python kitti_eval/eval_flow.py --pred_dir=/out/flow/ --gt_dir=/data/kitti/sequences/09/flow_2/

Each `%06d_10.png` in pred_dir is compared with the file of the same name in gt_dir; a prediction
of another size is resized to the ground truth's, its u and v scaled with the width and height.
"""

import argparse
import glob
import json
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from flow_io import read_flow_png  # noqa: E402

from posekit import depth_metrics  # noqa: E402


def resize_flow(flow, height, width):
    h, w = flow.shape[:2]
    out = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR)
    return out * np.array([width / w, height / h], np.float32)


def evaluate(pred_dir, gt_dir):
    preds = sorted(glob.glob(os.path.join(pred_dir, "*_10.png")))
    epe, fl, n = [], [], 0
    for path in preds:
        gt_path = os.path.join(gt_dir, os.path.basename(path))
        if not os.path.isfile(gt_path):
            continue
        gt, valid = read_flow_png(gt_path)
        pred, _ = read_flow_png(path)
        if pred.shape != gt.shape:
            pred = resize_flow(pred, gt.shape[0], gt.shape[1])
        if not valid.any():
            continue
        m = depth_metrics.flow_epe(gt, pred, valid)
        epe.append(m["epe"])
        fl.append(m["fl"])
        n += 1
    if not n:
        raise ValueError(f"no prediction in {pred_dir} has a ground-truth twin in {gt_dir}")
    return {"epe": float(np.mean(epe)), "fl": float(np.mean(fl)), "n": n}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pred_dir", required=True)
    p.add_argument("--gt_dir", required=True)
    p.add_argument("--json")
    args = p.parse_args(argv)
    result = evaluate(args.pred_dir, args.gt_dir)
    print(f"EPE {result['epe']:.4f} px, Fl {100 * result['fl']:.2f} % ({result['n']} pairs)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    main()
