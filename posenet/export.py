"""Export the test-time PoseNet (main branch, normalised quaternion) to MindIR or ONNX.

Input: (batch, 3, image_size, image_size) float32 in [-1, 1]; output: (batch, 7) = x y z w p q r.
"""

import argparse
import os

import mindspore as ms
import numpy as np
from src.config import common_config
from src.utils import DEVICES, load_predictor

from posekit.mindspore_train import set_device


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="PoseNet export")
    p.add_argument("--ckpt_path", required=True)
    p.add_argument("--file_name", default="posenet", help="output path without extension")
    p.add_argument("--file_format", default="MINDIR", choices=("MINDIR", "ONNX", "AIR"))
    p.add_argument("--image_size", type=int, default=common_config["image_size"])
    p.add_argument("--batch_size", type=int, default=1)
    p.add_argument("--device_target", default="CPU", choices=DEVICES)
    p.add_argument("--device_id", type=int, default=0)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    set_device(args.device_target, args.device_id)
    predictor = load_predictor(args.ckpt_path, args.image_size)
    dummy = ms.Tensor(np.zeros((args.batch_size, 3, args.image_size, args.image_size), np.float32))
    ms.export(predictor, dummy, file_name=args.file_name, file_format=args.file_format)
    suffix = {"MINDIR": ".mindir", "ONNX": ".onnx", "AIR": ".air"}[args.file_format]
    path = args.file_name if args.file_name.endswith(suffix) else args.file_name + suffix
    print(f"exported {os.path.abspath(path)}")
    return path


if __name__ == "__main__":
    main()
