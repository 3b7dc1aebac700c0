"""Trains Pix2Pose for one object; weights go to OUTPUT/pix2pose_weights/NN/.

usage: python 3_train_pix2pose.py --data_path=DATA --output_path=OUT --obj_id=01
       [--cfg CFG] [--dataset tless]
Needs OUT/models_xyz (2_1) and OUT/train_xyz/NN (2_2). Reruns resume from the newest epoch.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.abspath(os.path.join(HERE, "..", "..")))

from src.tools import bop_io  # noqa: E402
from src.train import train  # noqa: E402

OVERRIDES = {
    "batch_size": int,
    "max_epoch": int,
    "max_iter_per_epoch": int,
    "img_size": int,
    "width": float,
    "bg_dir": str,
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data_path", required=True, help="BOP data set folder")
    p.add_argument("--output_path", required=True, help="folder with models_xyz/ and train_xyz/")
    p.add_argument("--obj_id", required=True, help="object id, e.g. 01")
    p.add_argument("--cfg", default=os.path.join(HERE, "cfg", "cfg_tless_paper.json"))
    p.add_argument("--dataset", default="tless", help="data set name (layout)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--summary", help="write a JSON summary (losses, images/s) here")
    for key, typ in OVERRIDES.items():
        p.add_argument("--" + key, type=typ, help="override the config's " + key)
    a = p.parse_args(argv)
    try:
        obj_id = int(a.obj_id)
    except ValueError:
        p.error(f"--obj_id must be an integer, got {a.obj_id!r}")
    cfg = bop_io.load_cfg(a.cfg)
    cfg.update({k: getattr(a, k) for k in OVERRIDES if getattr(a, k) is not None})
    summary = train(a.data_path, a.output_path, obj_id, cfg, a.dataset, a.seed)
    if a.summary:
        with open(a.summary, "w") as f:
            json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
