"""ModelArts entry: copy data in from --data_url, train, copy results out to --train_url.

    python modelarts_entry.py --data_url=obs://bucket/prepared/ --train_url=obs://bucket/out/ \
        -- --mode=train_rigid --seq_length=3 --batch_size=4 --max_steps=210100

On ModelArts the OBS paths are copied with `moxing` (only importable there); elsewhere both are
local folders and nothing is copied: training reads --data_url and writes into --train_url
directly. Arguments after `--` go to geonet_main.py, which gets --dataset_dir and --checkpoint_dir
from here. Results are copied out also when training fails or is interrupted, so a resumed job
finds its checkpoints.
"""

import argparse
import os
import subprocess
import sys

from posekit import modelarts

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data_url", required=True, help="prepared training data (OBS or local)")
    p.add_argument("--train_url", required=True, help="where checkpoints and logs go")
    p.add_argument("--local_data", default="/cache/data", help="local copy of the data (ModelArts)")
    p.add_argument("--local_out", default="/cache/out", help="local output folder (ModelArts)")
    p.add_argument("train_args", nargs=argparse.REMAINDER, help="-- then geonet_main.py flags")
    args = p.parse_args(argv)
    if args.train_args and args.train_args[0] == "--":
        args.train_args = args.train_args[1:]
    return args


def main(argv=None):
    args = parse_args(argv)
    data_dir = modelarts.fetch(args.data_url, args.local_data)
    out_dir = modelarts.output_dir(args.train_url, args.local_out)
    os.makedirs(out_dir, exist_ok=True)
    modelarts.restore(args.train_url, out_dir)  # resume: the checkpoints an earlier run left
    cmd = [sys.executable, os.path.join(HERE, "geonet_main.py"), f"--dataset_dir={data_dir}",
           f"--checkpoint_dir={out_dir}"] + args.train_args  # fmt: skip
    print("$ " + " ".join(cmd), flush=True)
    try:
        code = subprocess.call(cmd)
    finally:
        modelarts.upload(out_dir, args.train_url)
    return code


if __name__ == "__main__":
    sys.exit(main())
