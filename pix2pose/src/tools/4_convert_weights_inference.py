"""Writes pix2pose_weights/NN/inference.hdf5 (generator only) from the best training file.

usage: python 4_convert_weights_inference.py --output_path=OUT --obj_id=01 [--cfg CFG]
       [--weights FILE]
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.abspath(os.path.join(HERE, "..", "..")))

from src import weights  # noqa: E402
from src.tools import bop_io  # noqa: E402
from src.train import export_generator  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--output_path", required=True, help="folder with pix2pose_weights/")
    p.add_argument("--obj_id", required=True, type=int)
    p.add_argument("--cfg", default=os.path.join(HERE, "cfg", "cfg_tless_paper.json"))
    p.add_argument("--weights", help="training file (default: lowest loss in the object's folder)")
    p.add_argument("--img_size", type=int)
    p.add_argument("--width", type=float)
    a = p.parse_args(argv)
    cfg = bop_io.load_cfg(a.cfg)
    weight_dir = os.path.join(a.output_path, "pix2pose_weights", f"{a.obj_id:02d}")
    src = a.weights or weights.best_checkpoint(weight_dir)
    if src is None:
        sys.exit(
            f"{weight_dir}: no pix2pose.EE-LOSS.hdf5 training weights; run 3_train_pix2pose.py"
        )
    size = a.img_size or int(cfg.get("img_size", 128))
    width = a.width or float(cfg.get("width", 1.0))
    out = export_generator(src, os.path.join(weight_dir, "inference.hdf5"), size, width)
    print(f"{src} -> {out}")


if __name__ == "__main__":
    main()
