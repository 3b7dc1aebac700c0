"""Run simple_baselines on one image: keypoints JSON and a drawn-skeleton PNG.

Boxes: --bbox x,y,w,h, or --bbox_file (a COCO detections json; with --image_id only that image's
boxes), or else the whole image. The network comes from a checkpoint (--ckpt_file) or an
exported MINDIR (--mindir).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys

import mindspore as ms
import numpy as np
from mindspore import nn
from src.checkpoint import CHECKPOINTS
from src.config import get_config
from src.dataset import make_codec
from src.pose_resnet import get_pose_net
from src.predict import predict_heatmaps

from posekit import coco, topdown
from posekit.topdown_samples import normalize, read_rgb


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--image", required=True)
    p.add_argument("--bbox", default=None, help="x,y,w,h of one person box")
    p.add_argument("--bbox_file", default=None, help="detections json")
    p.add_argument("--image_id", type=int, default=None, help="with --bbox_file: this image only")
    p.add_argument("--min_score", type=float, default=0.0, help="with --bbox_file")
    p.add_argument("--ckpt_file", default=None)
    p.add_argument("--mindir", default=None, help="exported MINDIR instead of a checkpoint")
    p.add_argument("--flip_test", type=ast.literal_eval, default=True, help="True or False")
    p.add_argument("--output", default="infer_result", help="output path prefix (.json, .png)")
    p.add_argument("--device_target", default="CPU", choices=["Ascend", "GPU", "CPU"])
    p.add_argument("--config_file", default=None, help="json config, e.g. the run's config.json")
    p.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    return p.parse_args(argv)


def parse_boxes(args, width, height):
    """-> list of (x, y, w, h) boxes and their scores."""
    if args.bbox:
        try:
            box = [float(v) for v in args.bbox.split(",")]
        except ValueError:
            box = []
        if len(box) != 4 or box[2] <= 0 or box[3] <= 0:
            raise ValueError(f"--bbox expects x,y,w,h with positive w and h, got {args.bbox!r}")
        return [(box, 1.0)]
    if args.bbox_file:
        dets = coco.read_detections(args.bbox_file, min_score=args.min_score)
        if args.image_id is not None:
            dets = [d for d in dets if d["image_id"] == args.image_id]
        if not dets:
            raise ValueError(f"{args.bbox_file}: no person boxes for this image")
        return [(list(d["bbox"]), d["score"]) for d in dets]
    return [([0.0, 0.0, float(width), float(height)], 1.0)]


class _Exported(nn.Cell):
    """An exported MINDIR graph with the network's call signature."""

    def __init__(self, path):
        super().__init__()
        self.graph = nn.GraphCell(ms.load(path))

    def construct(self, x):
        return self.graph(x)


def infer(cfg, net, image_path, boxes, flip_test=True):
    """-> list of {"bbox", "score", "keypoints" (K, 3)} for each box."""
    codec = make_codec(cfg)
    image = read_rgb(image_path)
    centers, scales, crops = [], [], []
    for box, _ in boxes:
        center, scale = codec.box_to_center_scale(box)
        crop, _ = codec.crop(image, center, scale)
        centers.append(center)
        scales.append(scale)
        crops.append(normalize(crop))
    people = []
    for i in range(len(crops)):  # one at a time: an exported graph has batch size 1
        heatmaps = predict_heatmaps(net, crops[i][None], flip_test, codec.flip_pairs)
        xy, conf = codec.decode(heatmaps, centers[i][None], scales[i][None])
        people.append(
            {
                "bbox": [float(v) for v in boxes[i][0]],
                "score": float(coco.rescore(conf, [boxes[i][1]])[0]),
                "keypoints": np.concatenate([xy[0], conf[0][:, None]], axis=1),
            }
        )
    return image, people


def main(argv=None):
    args = parse_args(argv)
    if (args.ckpt_file is None) == (args.mindir is None):
        sys.exit("infer: give either --ckpt_file or --mindir")
    cfg = get_config(args.config_file, args.set)
    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_device(args.device_target)
    try:
        if args.mindir:
            net = _Exported(args.mindir)
        else:
            net = get_pose_net(cfg)
            CHECKPOINTS.load_weights(net, args.ckpt_file)
            net.set_train(False)
        image = read_rgb(args.image)
        boxes = parse_boxes(args, image.shape[1], image.shape[0])
        image, people = infer(cfg, net, args.image, boxes, args.flip_test)
    except (ValueError, FileNotFoundError) as exc:
        sys.exit(f"infer: {exc}")
    out_dir = os.path.dirname(os.path.abspath(args.output))
    os.makedirs(out_dir, exist_ok=True)
    rows = [
        {
            "bbox": p["bbox"],
            "score": p["score"],
            "keypoints": {
                name: [round(float(x), 2), round(float(y), 2), round(float(s), 4)]
                for name, (x, y, s) in zip(coco.KEYPOINT_NAMES, p["keypoints"])
            },
        }
        for p in people
    ]
    with open(args.output + ".json", "w", encoding="utf-8") as f:
        json.dump({"image": args.image, "people": rows}, f, indent=2)
    drawn = topdown.draw_skeleton(image, [p["keypoints"] for p in people], coco.SKELETON)
    drawn.save(args.output + ".png")
    print(f"{len(people)} people -> {args.output}.json, {args.output}.png")


if __name__ == "__main__":
    main()
