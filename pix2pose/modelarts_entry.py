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
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def moxing():
    """The moxing module on ModelArts, None elsewhere."""
    try:
        return importlib.import_module("moxing")
    except ImportError:
        return None


def copy_tree(src: str, dst: str, mox) -> None:
    if mox is not None:
        mox.file.copy_parallel(src, dst)
    elif os.path.abspath(src) != os.path.abspath(dst):
        _copy(src, dst)


def _copy(src: str, dst: str) -> None:
    """copytree into an existing folder (dirs_exist_ok needs Python 3.8)."""
    for root, _, files in os.walk(src):
        rel = os.path.relpath(root, src)
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for f in files:
            shutil.copy2(os.path.join(root, f), os.path.join(dst, rel, f))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data_url", required=True)
    p.add_argument("--train_url", required=True)
    p.add_argument("--obj_id", required=True)
    p.add_argument("--local_dir", default="/cache/pix2pose", help="local copy on ModelArts")
    p.add_argument(
        "--enable_modelarts",
        action="store_true",
        help="accepted for the zoo's job syntax; " "copying happens whenever moxing imports",
    )
    a, rest = p.parse_known_args(argv)
    mox = moxing()
    if mox is not None:
        data = os.path.join(a.local_dir, "data")
        print(f"moxing: copying {a.data_url} -> {data}")
        copy_tree(a.data_url, data, mox)
    else:
        data = a.data_url
        if not os.path.isdir(data):
            sys.exit(
                f"--data_url {data}: folder not found (without moxing it must be a local folder)"
            )
    train_tool = importlib.import_module("src.tools.3_train_pix2pose")
    train_tool.main(["--data_path", data, "--output_path", data, "--obj_id", a.obj_id] + rest)
    weights = os.path.join(data, "pix2pose_weights")
    dest = a.train_url.rstrip("/") + "/pix2pose_weights"
    print(f"copying {weights} -> {dest}")
    copy_tree(weights, dest, mox)


if __name__ == "__main__":
    main()
