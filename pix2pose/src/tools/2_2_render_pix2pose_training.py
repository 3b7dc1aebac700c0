"""Renders training crops (RGB + xyz colour) for each ground-truth pose into train_xyz/NN/.

usage: python 2_2_render_pix2pose_training.py --data_path=DATA --output_path=OUT CFG DATASET
       [--obj_id N]
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from src.preprocess import render_training  # noqa: E402
from src.tools import bop_io  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data_path", required=True, help="BOP data set folder")
    p.add_argument("--output_path", required=True, help="folder with models_xyz/; gets train_xyz/")
    p.add_argument("--obj_id", type=int, action="append", help="only these objects (repeatable)")
    p.add_argument("cfg", help="config json")
    p.add_argument("dataset", help="data set name (layout): tless or synth")
    a = p.parse_args(argv)
    render_training(a.data_path, a.output_path, bop_io.load_cfg(a.cfg), a.dataset, a.obj_id)


if __name__ == "__main__":
    main()
