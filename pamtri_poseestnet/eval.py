"""Evaluate PoseEstNet on the VeRi test split: PCK under the reference and the honest protocol.

python eval.py --cfg config.yaml --data_dir data/veri --ckpt_path ckpt/PoseEstNet-210_283.ckpt

Every test image is evaluated (with the flip test). Both PCK tables are printed in the seed's
format, each under its definition (posekit.pck); outputs in --output_dir: pck.json (both tables
and the per-joint values), pred_test.csv (image_name + 36 x (x, y, heatmap maximum), the format
of PAMTRI's pose_<set>.csv) and gallery.png (predictions drawn on test images).
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
from src.config import load_config
from src.dataset.dataset import create_dataset
from src.dataset.veri import IMAGE_HINT, make_codec
from src.model.HRNet import get_pose_net
from src.utils.checkpoint import CHECKPOINTS
from src.utils.function import evaluate, mindspore_forward, run_inference
from src.utils.vis import draw_prediction, gallery

from posekit import mindspore_train, pck, veri
from posekit.topdown_samples import read_rgb


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cfg", default="config.yaml")
    p.add_argument("--data_dir", default=None, help="VeRi root with annot/ and images/")
    p.add_argument("--ckpt_path", required=True, help="trained PoseEstNet checkpoint")
    p.add_argument("--device_target", default="Ascend", choices=["Ascend", "GPU", "CPU"])
    p.add_argument("--device_id", type=int, default=int(os.getenv("DEVICE_ID", "0")))
    p.add_argument("--output_dir", default="./eval_output")
    p.add_argument("--gallery", type=int, default=12, help="test images in gallery.png (0: none)")
    p.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    return p.parse_args(argv)


def table_json(result):
    return {
        "definition": result.definition,
        "table": result.table,
        "per_joint": [None if np.isnan(v) else float(v) for v in result.per_joint],
        "visible_counts": [int(c) for c in result.counts],
        "normaliser_px": {
            "min": float(result.normaliser.min()),
            "median": float(np.median(result.normaliser)),
            "max": float(result.normaliser.max()),
        },
    }


def write_outputs(out_dir, labels, records, preds, maxvals, results, n_gallery):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "pck.json"), "w", encoding="utf-8") as f:
        json.dump({r.protocol: table_json(r) for r in results}, f, indent=2)
    veri.write_pose_table(
        os.path.join(out_dir, "pred_test.csv"), veri.PoseTable(labels.names, preds, maxvals)
    )
    if n_gallery > 0:
        picks = np.linspace(0, len(records) - 1, min(n_gallery, len(records))).astype(int)
        tiles = [
            draw_prediction(
                read_rgb(records[i]["image"], IMAGE_HINT),
                preds[i],
                maxvals[i],
                labels.joints[i],
                labels.visible[i],
            )  # fmt: skip
            for i in picks
        ]
        gallery(tiles).save(os.path.join(out_dir, "gallery.png"))


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.cfg, args.set)
    mindspore_train.set_device(args.device_target, args.device_id)
    data_dir = args.data_dir or cfg.DATASET.ROOT
    dataset, labels, records = create_dataset(cfg, data_dir, train=False)
    net = get_pose_net(cfg)
    CHECKPOINTS.load_weights(net, args.ckpt_path)
    print(f"ckpt path: {args.ckpt_path}")
    print(f"============== Starting Testing: {len(records)} images ==============", flush=True)
    forward = mindspore_forward(net)
    preds, maxvals, _ = run_inference(forward, dataset, records, make_codec(cfg), cfg, desc="test")
    results = evaluate(preds, maxvals, labels)
    print(pck.report(results, cfg.MODEL.NAME), flush=True)
    write_outputs(args.output_dir, labels, records, preds, maxvals, results, args.gallery)
    print(f"outputs in {args.output_dir}")
    return results


if __name__ == "__main__":
    main()
