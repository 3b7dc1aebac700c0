"""Estimates poses on the BOP test targets, writes the results CSV and scores it.

usage: python 5_evaluation_bop_basic.py --data_path=DATA --output_path=OUT [--cfg CFG]
       [--dataset tless] [--obj_id N ...] [--detections FILE]
Boxes: a detector is not bundled. With --detections FILE (or the config's "detection_file",
relative to DATA) the top-scoring BOP'22 detections of each target are used, up to its
inst_count; without, the ground-truth visible boxes of scene_gt_info.json. The output says
which. Weights: OUT/pix2pose_weights/NN/inference.hdf5 (4_convert), or a frozen graph per object
with --frozen NN=PATH.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.abspath(os.path.join(HERE, "..", "..")))

from posekit import bop  # noqa: E402
from src.evaluate import evaluate  # noqa: E402
from src.graph import FrozenGraph, GeneratorSession  # noqa: E402
from src.tools import bop_io  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data_path", required=True, help="BOP data set folder")
    p.add_argument(
        "--output_path", required=True, help="folder with models_xyz/ and pix2pose_weights/"
    )
    p.add_argument("--cfg", default=os.path.join(HERE, "cfg", "cfg_tless_paper.json"))
    p.add_argument("--dataset", default="tless")
    p.add_argument(
        "--obj_id",
        type=int,
        action="append",
        help="objects to evaluate (default: all with weights)",
    )
    p.add_argument(
        "--frozen", action="append", default=[], help="NN=PATH: use a frozen graph for object NN"
    )
    p.add_argument("--no_vsd", action="store_true", help="skip VSD (AR from MSSD and MSPD only)")
    p.add_argument("--picture", help="PNG of predicted (red) and true (green) outlines")
    p.add_argument("--json", help="also write the scores here")
    p.add_argument(
        "--detections",
        help="BOP'22 detections JSON (list of scene_id, image_id, category_id, bbox, score, time) "
        "to take boxes from; default: the config's detection_file, else ground-truth boxes",
    )
    a = p.parse_args(argv)
    cfg = bop_io.load_cfg(a.cfg)
    det_file = a.detections
    if not det_file and cfg.get("detection_file"):
        det_file = os.path.join(a.data_path, cfg["detection_file"])
    detections = None
    if det_file:
        # read before the networks are built, so that a bad file fails at once
        try:
            detections = bop.read_detections(det_file)
        except (bop.BopFormatError, FileNotFoundError) as exc:
            sys.exit(f"error: {exc}")
    wdir = os.path.join(a.output_path, "pix2pose_weights")
    frozen = {}
    for item in a.frozen:
        k, _, path = item.partition("=")
        if not k.isdigit() or not path:
            p.error(f"--frozen expects NN=PATH, got {item!r}")
        frozen[int(k)] = path
    obj_ids = a.obj_id or sorted(
        set(frozen)
        | {
            int(d)
            for d in (os.listdir(wdir) if os.path.isdir(wdir) else [])
            if d.isdigit() and os.path.exists(os.path.join(wdir, d, "inference.hdf5"))
        }
    )
    if not obj_ids:
        sys.exit(
            f"{wdir}: no object has inference.hdf5; run 3_train_pix2pose.py and "
            "4_convert_weights_inference.py"
        )
    predictors = {}
    for o in obj_ids:
        if o in frozen:
            predictors[o] = FrozenGraph(frozen[o])
        else:
            predictors[o] = GeneratorSession(
                os.path.join(wdir, f"{o:02d}", "inference.hdf5"),
                int(cfg.get("img_size", 128)),
                float(cfg.get("width", 1.0)),
            )
    out = evaluate(
        a.data_path,
        a.output_path,
        cfg,
        a.dataset,
        obj_ids,
        predictors,
        not a.no_vsd,
        True,
        a.picture,
        det_file,
        detections,
    )
    s, b = out["scores"], out.get("baseline_scores", {})
    print(f"boxes: {out['boxes']}")
    print(
        f"boxes used: {out['n_boxes']} for {out['n_instances']} target instances; "
        f"time column: {out['time']}"
    )
    print(f"results: {out['csv']} ({out['n_estimates']} estimates for {out['n_targets']} targets)")
    print(
        f"BOP AR ({s['ar_terms']}): {s['ar']:.4f}  VSD {s.get('vsd', float('nan')):.4f}  "
        f"MSSD {s['mssd']:.4f}  "
        f"MSPD {s['mspd']:.4f}  ADD(-S)@0.1d {s['adds_recall']:.4f}"
    )
    if b:
        print(
            f"baseline (mean training pose): AR {b['ar']:.4f}  ADD(-S)@0.1d {b['adds_recall']:.4f}"
        )
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1, default=float)


if __name__ == "__main__":
    main()
