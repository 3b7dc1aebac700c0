"""Evaluate simple_baselines on COCO val2017: flip test, OKS-NMS, pycocotools keypoint AP.

Boxes come from the person detector's file (default, as the seed: the published 0.704 AP uses
detection boxes of a 56 AP detector) or from the ground truth with --use_gt_bbox True. Writes to
--output_dir the results json, metrics.json and gallery.png (predicted skeletons).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import time

import mindspore as ms
import numpy as np
from src.baseline import mean_pose, place
from src.checkpoint import CHECKPOINTS
from src.config import get_config
from src.dataset import build_records, create_dataset, make_codec
from src.pose_resnet import get_pose_net
from src.predict import gallery, predict_heatmaps

from posekit import coco, modelarts
from posekit.topdown_samples import read_rgb


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data_url", default=None, help="COCO root (default: config DATASET.ROOT)")
    p.add_argument("--ckpt_file", default=None, help="checkpoint to evaluate")
    p.add_argument(
        "--baseline",
        choices=["mean_pose"],
        default=None,
        help="score the training set's mean pose in each box instead",
    )
    p.add_argument("--device_target", default="Ascend", choices=["Ascend", "GPU", "CPU"])
    p.add_argument("--device_id", type=int, default=int(os.getenv("DEVICE_ID", "0")))
    p.add_argument(
        "--use_gt_bbox",
        type=ast.literal_eval,
        default=None,
        help="True: ground-truth boxes; False (default): detections",
    )
    p.add_argument("--bbox_file", default=None, help="detections json (default: config)")
    p.add_argument("--flip_test", type=ast.literal_eval, default=None)
    p.add_argument("--output_dir", default="./results")
    p.add_argument("--gallery", type=int, default=8, help="images in gallery.png (0: none)")
    p.add_argument("--enable_modelarts", type=ast.literal_eval, default=False)
    p.add_argument("--train_url", default=None, help="ModelArts: where results go")
    p.add_argument("--config_file", default=None, help="json config, e.g. the run's config.json")
    p.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    return p.parse_args(argv)


def predict(cfg, net, records, dataset):
    """Network predictions for every record -> (N, K, 2) image coordinates, (N, K) maxima."""
    codec = make_codec(cfg)
    flip = cfg.TEST.FLIP_TEST
    n = len(records)
    coords = np.zeros((n, cfg.MODEL.NUM_JOINTS, 2))
    maxvals = np.zeros((n, cfg.MODEL.NUM_JOINTS))
    net.set_train(False)
    start, done = time.time(), 0
    for images, index in dataset.create_tuple_iterator(num_epochs=1, output_numpy=True):
        heatmaps = predict_heatmaps(net, images, flip, codec.flip_pairs, cfg.TEST.SHIFT_HEATMAP)
        centers = np.stack([records[i]["center"] for i in index])
        scales = np.stack([records[i]["scale"] for i in index])
        coords[index], maxvals[index] = codec.decode(heatmaps, centers, scales)
        done += len(index)
        print(f"predicted {done}/{n} boxes", end="\r", flush=True)
    elapsed = time.time() - start
    print(f"predicted {done} boxes in {elapsed:.1f} s ({done / max(elapsed, 1e-9):.1f} boxes/s)")
    return coords, maxvals


def score(
    cfg, records, coords, maxvals, data_dir, use_gt_bbox, output_dir, gallery_images=8, tag=""
):
    """Rescoring, OKS-NMS, results json, COCOeval, metrics.json and gallery.png."""
    results = coco.topdown_results(
        [r["image_id"] for r in records],
        coords,
        maxvals,
        np.stack([r["scale"] for r in records]),
        np.array([r["score"] for r in records]),
        oks_thresh=cfg.TEST.OKS_THRE,
        vis_thresh=cfg.TEST.IN_VIS_THRE,
    )
    os.makedirs(output_dir, exist_ok=True)
    res_file = os.path.join(output_dir, f"keypoints_{cfg.DATASET.TEST_SET}_results{tag}.json")
    coco.write_results(res_file, results)
    stats = coco.evaluate(
        os.path.join(data_dir, cfg.DATASET.TEST_JSON), res_file, use_gt_bbox=use_gt_bbox
    )
    print(stats.pop("summary"), end="")
    stats.update(boxes_evaluated=len(records), results=len(results))
    if not tag:  # a network's predictions (the baseline has no flip test)
        stats["flip_test"] = bool(cfg.TEST.FLIP_TEST)
    with open(os.path.join(output_dir, f"metrics{tag}.json"), "w", encoding="utf-8") as f:
        json.dump(stats, f, indent=2)
    print(f"AP: {stats['AP']:.3f} ({stats['boxes']} boxes); results in {res_file}")
    if gallery_images:
        by_image = {}
        for r in results:
            by_image.setdefault(r["image_id"], []).append(r["keypoints"])
        paths = {r["image_id"]: r["image"] for r in records}
        chosen = sorted(by_image)[:gallery_images]
        gallery(
            [(read_rgb(paths[i]), by_image[i]) for i in chosen],
            os.path.join(output_dir, f"gallery{tag}.png"),
            thresh=cfg.TEST.IN_VIS_THRE,
        )
    return stats


def run(cfg, data_dir, use_gt_bbox, output_dir, net=None, bbox_file=None, gallery_images=8):
    """The whole protocol for a network, or for the mean-pose baseline when net is None."""
    dataset, records = create_dataset(
        cfg,
        data_dir,
        train=False,
        batch_size=cfg.TEST.BATCH_SIZE,
        use_gt_bbox=use_gt_bbox,
        bbox_file=bbox_file,
    )
    if net is None:
        codec = make_codec(cfg)
        pose = mean_pose(build_records(cfg, data_dir, train=True), codec)
        coords, maxvals = place(pose, records, codec)
        return score(
            cfg,
            records,
            coords,
            maxvals,
            data_dir,
            use_gt_bbox,
            output_dir,
            gallery_images,
            tag="_mean_pose",
        )
    coords, maxvals = predict(cfg, net, records, dataset)
    return score(cfg, records, coords, maxvals, data_dir, use_gt_bbox, output_dir, gallery_images)


def main(argv=None):
    args = parse_args(argv)
    cfg = get_config(args.config_file, args.set)
    use_gt = cfg.TEST.USE_GT_BBOX if args.use_gt_bbox is None else args.use_gt_bbox
    if args.flip_test is not None:
        cfg.TEST.FLIP_TEST = args.flip_test
    if (args.ckpt_file is None) == (args.baseline is None):
        sys.exit("eval: give either --ckpt_file or --baseline mean_pose")
    data_dir, out_dir = modelarts.job_dirs(
        args.enable_modelarts, args.data_url or cfg.DATASET.ROOT, args.train_url or args.output_dir
    )
    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_device(args.device_target, args.device_id if args.device_target != "CPU" else None)
    try:
        net = None
        if args.ckpt_file:
            net = get_pose_net(cfg)
            CHECKPOINTS.load_weights(net, args.ckpt_file)
        run(cfg, data_dir, use_gt, out_dir, net, args.bbox_file, args.gallery)
    except (ValueError, FileNotFoundError) as exc:
        sys.exit(f"eval: {exc}")
    if args.enable_modelarts:
        modelarts.upload(out_dir, args.train_url or args.output_dir)


if __name__ == "__main__":
    main()
