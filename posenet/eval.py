"""Evaluate PoseNet on a scene's test split: median position (m) and rotation (deg) errors.

Writes to --output_dir: predictions_test.txt (Cambridge format), metrics.json (all images and per
sequence, plus the mean-training-pose baseline), error_cdf.png and topdown.png.
"""

import argparse
import json
import logging
import os
import time

import mindspore as ms
import numpy as np
from src import plots
from src.config import POSENET_ROOT, common_config, dataset_config
from src.dataset import create_posenet_dataset, prepare_mindrecord
from src.utils import DEVICES, load_predictor, setup_logging

from posekit import cambridge
from posekit.mindspore_train import set_device

LOG = logging.getLogger("posenet")


def parse_args(argv=None):
    c = common_config
    p = argparse.ArgumentParser(description="PoseNet evaluation")
    p.add_argument("--dataset", default="KingsCollege")
    p.add_argument("--dataset_path", default=None, help="scene folder with dataset_test.txt")
    p.add_argument("--mindrecord_dir", default=None)
    p.add_argument("--ckpt_path", required=True, help="checkpoint written by train.py")
    p.add_argument("--device_target", default=c["device_target"], choices=DEVICES)
    p.add_argument("--device_id", type=int, default=None)
    p.add_argument("--image_size", type=int, default=c["image_size"])
    p.add_argument("--resize_size", type=int, default=c["resize_size"])
    p.add_argument("--batch_size", type=int, default=16)
    p.add_argument("--output_dir", default=None, help="default: eval/<dataset>")
    args = p.parse_args(argv)
    scene = dataset_config(args.dataset)
    args.dataset_path = args.dataset_path or scene["dataset_path"]
    args.mindrecord_dir = args.mindrecord_dir or scene["mindrecord_dir"]
    args.output_dir = args.output_dir or os.path.join(POSENET_ROOT, "eval", args.dataset)
    return args


def predict(predictor, record, batch_size, image_size):
    """(names, true poses (N, 7), predicted poses (N, 7)) over the whole test MindRecord."""
    data = create_posenet_dataset(record, batch_size, image_size, is_training=False)
    names, truth, preds = [], [], []
    for image, pose, name in data.create_tuple_iterator(output_numpy=True, num_epochs=1):
        n = len(image)
        if n < batch_size:  # pad the last batch: one compiled graph shape for every batch
            image = np.concatenate(
                [image, np.zeros((batch_size - n,) + image.shape[1:], image.dtype)]
            )
        preds.append(predictor(ms.Tensor(image)).asnumpy()[:n])
        truth.append(pose)
        names.extend(str(n) for n in name)
    return names, np.concatenate(truth), np.concatenate(preds)


def main(argv=None):
    args = parse_args(argv)
    device_id = args.device_id if args.device_id is not None else int(os.getenv("DEVICE_ID", "0"))
    set_device(args.device_target, device_id)
    setup_logging()
    record = prepare_mindrecord(
        args.dataset_path, "test", args.mindrecord_dir, args.dataset, args.resize_size
    )
    predictor = load_predictor(args.ckpt_path, args.image_size)
    start = time.time()
    names, truth, preds = predict(predictor, record, args.batch_size, args.image_size)
    seconds = time.time() - start
    pos_err, rot_err = cambridge.pose_errors(truth[:, :3], truth[:, 3:], preds[:, :3], preds[:, 3:])
    sequences = [cambridge.sequence_of(n) for n in names]
    summary = cambridge.summarize(pos_err, rot_err, sequences)
    result = {"dataset": args.dataset, "checkpoint": os.path.abspath(args.ckpt_path)}
    result["metrics"] = summary
    test = cambridge.Split(names, truth[:, :3], truth[:, 3:])
    train_txt = cambridge.split_path(args.dataset_path, "train")
    train = cambridge.read_split(train_txt) if os.path.isfile(train_txt) else None
    if train is not None:
        result["baseline_mean_pose"] = cambridge.mean_pose_baseline(train, test)
    result["images_per_second"] = len(names) / max(seconds, 1e-9)

    os.makedirs(args.output_dir, exist_ok=True)
    cambridge.write_split(
        os.path.join(args.output_dir, "predictions_test.txt"), names, preds[:, :3], preds[:, 3:]
    )
    with open(os.path.join(args.output_dir, "metrics.json"), "w") as f:
        json.dump(result, f, indent=2)
    title = f"PoseNet on {args.dataset} test ({len(names)} images)"
    plots.error_cdf(
        os.path.join(args.output_dir, "error_cdf.png"),
        pos_err,
        rot_err,
        title,
        result.get("baseline_mean_pose"),
    )
    plots.topdown(
        os.path.join(args.output_dir, "topdown.png"),
        truth[:, :3],
        preds[:, :3],
        sequences,
        title,
        None if train is None else train.positions,
    )
    for seq, s in summary.items():
        LOG.info(
            "%-6s %4d images: median %.3f m, %.3f deg (mean %.3f m, %.3f deg)",
            seq,
            s["count"],
            s["median_position_m"],
            s["median_rotation_deg"],
            s["mean_position_m"],
            s["mean_rotation_deg"],
        )
    if "baseline_mean_pose" in result:
        b = result["baseline_mean_pose"]
        LOG.info(
            "mean-training-pose baseline: median %.3f m, %.3f deg",
            b["median_position_m"],
            b["median_rotation_deg"],
        )
    a = summary["all"]
    print(f"Median error  {a['median_position_m']} m  and  {a['median_rotation_deg']} degrees")
    LOG.info("results in %s", args.output_dir)
    return result


if __name__ == "__main__":
    main()
