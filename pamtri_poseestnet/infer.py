"""Keypoints of one vehicle image: JSON (36 named points with scores) and a drawn PNG.

python infer.py --image car.jpg --ckpt_path CKPT_PATH [--cfg config.yaml] [--output_dir out]

The whole image is taken as the vehicle's box, as VeRi images are (detector crops). Writes
<output_dir>/<stem>_keypoints.json and <stem>_keypoints.png.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
from src.config import load_config
from src.dataset.veri import make_codec
from src.model.HRNet import get_pose_net
from src.utils.checkpoint import CHECKPOINTS
from src.utils.function import mindspore_forward, predict_heatmaps
from src.utils.vis import draw_prediction

from posekit import mindspore_train, veri
from posekit.topdown_samples import normalize, read_rgb


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--image", required=True, help="a vehicle image (a crop, as in VeRi)")
    p.add_argument("--ckpt_path", required=True)
    p.add_argument("--cfg", default="config.yaml")
    p.add_argument("--output_dir", default=".")
    p.add_argument("--device_target", default="CPU", choices=["Ascend", "GPU", "CPU"])
    p.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    return p.parse_args(argv)


def infer(cfg, forward, image):
    """(H, W, 3) uint8 RGB -> (36, 2) points in the image, (36,) scores."""
    codec = make_codec(cfg)
    height, width = image.shape[:2]
    center, scale = codec.box_to_center_scale((0, 0, width, height))
    crop, _ = codec.crop(image, center, scale)
    maps = predict_heatmaps(
        forward, normalize(crop)[None], cfg.TEST.FLIP_TEST, cfg.TEST.SHIFT_HEATMAP
    )
    points, scores = codec.decode(maps, center[None], scale[None])
    return points[0], scores[0]


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.cfg, args.set)
    mindspore_train.set_device(args.device_target)
    net = get_pose_net(cfg)
    CHECKPOINTS.load_weights(net, args.ckpt_path)
    image = read_rgb(args.image)
    points, scores = infer(cfg, mindspore_forward(net), image)
    os.makedirs(args.output_dir, exist_ok=True)
    stem = os.path.splitext(os.path.basename(args.image))[0]
    record = {
        "image": os.path.abspath(args.image),
        "width": int(image.shape[1]),
        "height": int(image.shape[0]),
        "flip_test": bool(cfg.TEST.FLIP_TEST),
        "keypoints": [
            {"id": k, "name": veri.JOINT_NAMES[k], "x": float(x), "y": float(y), "score": float(s)}
            for k, ((x, y), s) in enumerate(zip(points, scores))
        ],
    }
    json_path = os.path.join(args.output_dir, stem + "_keypoints.json")
    with open(json_path, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1)
    png_path = os.path.join(args.output_dir, stem + "_keypoints.png")
    draw_prediction(image, points, scores).save(png_path)
    print(f"wrote {json_path} and {png_path}; mean score {np.mean(scores):.3f}")
    return record


if __name__ == "__main__":
    main()
