"""Export a trained PoseEstNet to MINDIR (any device), ONNX (ONNX Runtime) or AIR (Ascend).

python export.py --cfg config.yaml --ckpt_path CKPT_PATH [--file_format MINDIR|ONNX|AIR]
    [--file_name PoseEstNet] [--batch_size 1]

The graph maps a normalised (B, 3, H, W) float32 batch (ImageNet RGB mean/std, H x W =
MODEL.IMAGE_SIZE) to (B, 36, H/4, W/4) heatmaps; the batch size is fixed at export.
"""

from __future__ import annotations

import argparse
import os

import mindspore as ms
import numpy as np
from src.config import load_config
from src.model.HRNet import get_pose_net
from src.utils.checkpoint import CHECKPOINTS

from posekit import mindspore_train

SUFFIX = {"MINDIR": ".mindir", "ONNX": ".onnx", "AIR": ".air"}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cfg", default="config.yaml")
    p.add_argument("--ckpt_path", required=True)
    p.add_argument("--file_name", default="PoseEstNet", help="output path without suffix")
    p.add_argument("--file_format", default="MINDIR", choices=sorted(SUFFIX))
    p.add_argument("--batch_size", type=int, default=1)
    p.add_argument("--device_target", default="CPU", choices=["Ascend", "GPU", "CPU"])
    p.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    return p.parse_args(argv)


def export(cfg, ckpt_path, file_name, file_format="MINDIR", batch_size=1):
    """Writes the model file; returns its path."""
    net = get_pose_net(cfg)
    CHECKPOINTS.load_weights(net, ckpt_path)
    net.set_train(False)
    width, height = cfg.MODEL.IMAGE_SIZE
    dummy = ms.Tensor(np.zeros((batch_size, 3, height, width), np.float32))
    path = file_name + SUFFIX[file_format]
    if file_format == "ONNX":
        ms.onnx.export(net, dummy, file_name=path, input_names=["image"], output_names=["heatmaps"])
    else:
        ms.export(net, dummy, file_name=file_name, file_format=file_format)
    if not os.path.isfile(path):
        raise RuntimeError(f"export wrote no {path}")
    return path


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.cfg, args.set)
    mindspore_train.set_device(args.device_target)
    path = export(cfg, args.ckpt_path, args.file_name, args.file_format, args.batch_size)
    print(f"exported {path} ({os.path.getsize(path) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
