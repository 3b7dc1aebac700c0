"""ModelArts entry: copies data in from --data_url and results out to --train_url through
`moxing` when it imports (only on ModelArts, where the URLs are obs://...); elsewhere both are
local folders. Then runs the training entry (3_train_pix2pose.py) on the local copy.

usage: python modelarts_entry.py --data_url DATA --train_url OUT --obj_id 01 [--cfg CFG]
       [--dataset tless] [--local_dir /cache/pix2pose] [training overrides ...]
DATA holds the BOP data set plus models_xyz/ and train_xyz/ (2_1 and 2_2 need OpenGL, so they
run beforehand, as the seed describes); OUT receives pix2pose_weights/NN/.
"""

import argparse
import importlib
import os
import sys

from posekit import modelarts

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data_url", required=True)
    p.add_argument("--train_url", required=True)
    p.add_argument("--obj_id", required=True)
    p.add_argument("--local_dir", default="/cache/pix2pose", help="local copy on ModelArts")
    p.add_argument(
        "--enable_modelarts",
        action="store_true",
        help="accepted for the zoo's job syntax; copying happens whenever moxing imports",
    )
    a, rest = p.parse_known_args(argv)
    data = modelarts.fetch(a.data_url, os.path.join(a.local_dir, "data"))
    if not os.path.isdir(data):
        sys.exit(f"--data_url {data}: folder not found (without moxing it must be a local folder)")
    train_tool = importlib.import_module("src.tools.3_train_pix2pose")
    train_tool.main(["--data_path", data, "--output_path", data, "--obj_id", a.obj_id] + rest)
    weights = os.path.join(data, "pix2pose_weights")
    modelarts.upload(weights, a.train_url.rstrip("/") + "/pix2pose_weights")


if __name__ == "__main__":
    main()
