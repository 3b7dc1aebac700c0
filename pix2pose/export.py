"""Exports one object's generator as a frozen TensorFlow graph (.pb) and, with --onnx, as ONNX
(tf2onnx 1.14, opset 11; the result passes onnx.checker).

usage: python export.py --output_path=OUT --obj_id=N [--cfg CFG] [--onnx]
Reads OUT/pix2pose_weights/NN/inference.hdf5 (4_convert_weights_inference.py); writes
OUT/pix2pose_weights/NN/inference.pb with input `input:0` (N, S, S, 3) in [-1, 1] and outputs
`generator/xyz_out:0`, `generator/error_out:0`.
"""

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from src.graph import INPUT_NAME, OUTPUT_NAMES, freeze  # noqa: E402
from src.tools import bop_io  # noqa: E402


def to_onnx(pb_path: str, onnx_path: str) -> str:
    """Converts with tf2onnx's command line; raises RuntimeError with its message on failure."""
    cmd = [
        sys.executable,
        "-m",
        "tf2onnx.convert",
        "--graphdef",
        pb_path,
        "--output",
        onnx_path,
        "--inputs",
        INPUT_NAME + ":0",
        "--outputs",
        ",".join(n + ":0" for n in OUTPUT_NAMES),
        "--opset",
        "11",
    ]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0 or not os.path.exists(onnx_path):
        raise RuntimeError("tf2onnx failed:\n" + proc.stdout[-2000:])
    import onnx

    onnx.checker.check_model(onnx.load(onnx_path))
    return onnx_path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--output_path", required=True, help="folder with pix2pose_weights/")
    p.add_argument("--obj_id", required=True, type=int)
    p.add_argument(
        "--cfg", default=os.path.join(HERE, "src", "tools", "cfg", "cfg_tless_paper.json")
    )
    p.add_argument("--onnx", action="store_true", help="also convert to ONNX with tf2onnx")
    a = p.parse_args(argv)
    cfg = bop_io.load_cfg(a.cfg)
    wdir = os.path.join(a.output_path, "pix2pose_weights", f"{a.obj_id:02d}")
    pb = freeze(
        os.path.join(wdir, "inference.hdf5"),
        os.path.join(wdir, "inference.pb"),
        int(cfg.get("img_size", 128)),
        float(cfg.get("width", 1.0)),
    )
    print(f"frozen graph: {pb}")
    if a.onnx:
        try:
            print(f"onnx: {to_onnx(pb, os.path.join(wdir, 'inference.onnx'))}")
        except RuntimeError as exc:
            sys.exit(str(exc))


if __name__ == "__main__":
    main()
