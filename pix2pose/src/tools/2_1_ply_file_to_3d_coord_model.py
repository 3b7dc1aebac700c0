"""Writes models_xyz/ (PLY models coloured by normalised coordinates) and norm_factor.json.

usage: python 2_1_ply_file_to_3d_coord_model.py --data_path=DATA --output_path=OUT CFG DATASET
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from src.preprocess import make_xyz_models  # noqa: E402
from src.tools import bop_io  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data_path", required=True, help="BOP data set folder")
    p.add_argument("--output_path", required=True, help="where models_xyz/ goes")
    p.add_argument("cfg", help="config json, e.g. cfg/cfg_tless_paper.json")
    p.add_argument("dataset", help="data set name (layout): tless or synth")
    a = p.parse_args(argv)
    factors = make_xyz_models(a.data_path, a.output_path, bop_io.load_cfg(a.cfg), a.dataset)
    print(f"{len(factors)} coordinate models -> {os.path.join(a.output_path, 'models_xyz')}")


if __name__ == "__main__":
    main()
