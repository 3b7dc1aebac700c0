"""Export a trained simple_baselines network to MINDIR, ONNX or AIR (AIR needs Ascend).

Input: (batch, 3, H, W) float32 RGB normalised with the ImageNet mean/std; output: (batch, 17,
H/4, W/4) heatmaps. Decode them with posekit.topdown (see infer.py).
"""

from __future__ import annotations

import argparse
import os
import sys

import mindspore as ms
import numpy as np
from src.checkpoint import CHECKPOINTS
from src.config import get_config
from src.pose_resnet import get_pose_net

EXTENSIONS = {"MINDIR": ".mindir", "ONNX": ".onnx", "AIR": ".air"}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ckpt_file", required=True)
    p.add_argument("--file_name", default="simple_baselines", help="output path without extension")
    p.add_argument("--file_format", default="MINDIR", choices=sorted(EXTENSIONS))
    p.add_argument("--batch_size", type=int, default=1)
    p.add_argument("--device_target", default="CPU", choices=["Ascend", "GPU", "CPU"])
    p.add_argument("--config_file", default=None, help="json config, e.g. the run's config.json")
    p.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    return p.parse_args(argv)


def export(cfg, ckpt_file, file_name, file_format, batch_size=1):
    """Writes file_name + extension; returns its path."""
    net = get_pose_net(cfg)
    CHECKPOINTS.load_weights(net, ckpt_file)
    net.set_train(False)
    width, height = cfg.MODEL.IMAGE_SIZE
    dummy = ms.Tensor(np.zeros((batch_size, 3, height, width), np.float32))
    ms.export(net, dummy, file_name=file_name, file_format=file_format)
    path = file_name + EXTENSIONS[file_format]
    if not os.path.isfile(path):
        raise RuntimeError(f"export reported success but {path} was not written")
    if file_format == "ONNX":
        fix_onnx_conv_transpose(path)
    return path


def fix_onnx_conv_transpose(path):
    """MindSpore writes ConvTranspose's output_shape as the full NCHW shape, which ONNX rejects
    (it wants the spatial dims only). The node also carries explicit pads, which give the same
    size, so the attribute is dropped; the model is then checked."""
    import onnx

    model = onnx.load(path)
    for node in model.graph.node:
        if node.op_type == "ConvTranspose":
            keep = [a for a in node.attribute if a.name != "output_shape"]
            del node.attribute[:]
            node.attribute.extend(keep)
    onnx.checker.check_model(model)
    onnx.save(model, path)


def main(argv=None):
    args = parse_args(argv)
    cfg = get_config(args.config_file, args.set)
    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_device(args.device_target)
    try:
        path = export(cfg, args.ckpt_file, args.file_name, args.file_format, args.batch_size)
    except (ValueError, FileNotFoundError) as exc:
        sys.exit(f"export: {exc}")
    print(f"exported {path}")


if __name__ == "__main__":
    main()
