"""Write MultiTaskNet's inputs from a trained PoseEstNet (PAMTRI's trans step).

python trans.py --cfg config.yaml --ckpt_path CKPT_PATH --data_dir MultiTaskNet/data
    [--output_dir DIR] [--sets train query test] [--overwrite]

For each set with a `label_<set>.csv` (MultiTaskNet's 112-column labels; only the image names
are used) and images in `image_<set>/`, with every image taken as the vehicle box and the flip
test:
- pose_<set>.csv: image_name then 36 x (x, y, heatmap maximum), 3 decimals;
- heatmap_<set>/<image stem>/NN.jpg: the 36 predicted heatmaps, x 255 clipped (64 x 64);
- segment_<set>/<image stem>/NN.jpg: the 13 vehicle segments (posekit.veri.SEGMENTS) filled from
  the rounded keypoints when convex, resized to 64 x 64.
Outputs go to --output_dir (default: --data_dir, where MultiTaskNet reads them). An existing
pose_<set>.csv is kept unless --overwrite.
"""

from __future__ import annotations

import argparse
import os

import mindspore.dataset as ds
from PIL import Image
from src.config import load_config
from src.dataset.veri import make_codec, make_source
from src.model.HRNet import get_pose_net
from src.utils.checkpoint import CHECKPOINTS
from src.utils.function import mindspore_forward, run_inference
from src.utils.vis import heatmap_image, segment_masks
from tqdm import tqdm

from posekit import mindspore_train, veri

SETS = ("train", "query", "test")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cfg", default="config.yaml")
    p.add_argument("--ckpt_path", required=True)
    p.add_argument("--data_dir", required=True, help="MultiTaskNet data folder")
    p.add_argument("--output_dir", default=None)
    p.add_argument("--sets", nargs="+", default=list(SETS))
    p.add_argument("--device_target", default="Ascend", choices=["Ascend", "GPU", "CPU"])
    p.add_argument("--device_id", type=int, default=int(os.getenv("DEVICE_ID", "0")))
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    return p.parse_args(argv)


def set_records(cfg, data_dir, name):
    """Image names of label_<set>.csv -> records with the whole image as the box."""
    table = veri.read_pose_table(os.path.join(data_dir, f"label_{name}.csv"))
    codec = make_codec(cfg)
    records = []
    for image_name in table.names:
        path = os.path.join(data_dir, "image_" + name, image_name)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{table.path}: image {image_name} not found at {path}")
        with Image.open(path) as img:
            width, height = img.size
        center, scale = codec.box_to_center_scale((0, 0, width, height))
        records.append({"image": path, "center": center, "scale": scale, "size": (width, height)})
    return table.names, records


def write_set(out_dir, name, names, records, preds, maxvals, heatmaps):
    veri.write_pose_table(
        os.path.join(out_dir, f"pose_{name}.csv"), veri.PoseTable(names, preds, maxvals)
    )
    for i, image_name in enumerate(tqdm(names, desc=f"{name}: heatmaps, segments", unit="img")):
        stem = os.path.splitext(image_name)[0]
        heat_dir = os.path.join(out_dir, f"heatmap_{name}", stem)
        seg_dir = os.path.join(out_dir, f"segment_{name}", stem)
        os.makedirs(heat_dir, exist_ok=True)
        os.makedirs(seg_dir, exist_ok=True)
        for k, hm in enumerate(heatmaps[i]):
            Image.fromarray(heatmap_image(hm)).save(os.path.join(heat_dir, f"{k:02d}.jpg"))
        width, height = records[i]["size"]
        for s, mask in enumerate(segment_masks(preds[i], width, height)):
            Image.fromarray(mask).save(os.path.join(seg_dir, f"{s:02d}.jpg"))


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.cfg, args.set)
    mindspore_train.set_device(args.device_target, args.device_id)
    out_dir = args.output_dir or args.data_dir
    os.makedirs(out_dir, exist_ok=True)
    todo = [s for s in args.sets if os.path.isfile(os.path.join(args.data_dir, f"label_{s}.csv"))]
    if not todo:
        raise SystemExit(f"{args.data_dir}: none of label_{{{','.join(args.sets)}}}.csv found")
    for name in todo:
        target = os.path.join(out_dir, f"pose_{name}.csv")
        if os.path.exists(target) and not args.overwrite:
            raise SystemExit(f"{target} exists; pass --overwrite to replace it")
    net = get_pose_net(cfg)
    CHECKPOINTS.load_weights(net, args.ckpt_path)
    forward = mindspore_forward(net)
    codec = make_codec(cfg)
    for name in todo:
        names, records = set_records(cfg, args.data_dir, name)
        source = make_source(cfg, records, train=False)
        dataset = ds.GeneratorDataset(
            source, ["image", "index"], shuffle=False, python_multiprocessing=False,
            num_parallel_workers=max(1, min(cfg.TEST.NUM_WORKERS, os.cpu_count() or 1)),
        ).batch(cfg.TEST.BATCH_SIZE, drop_remainder=False)  # fmt: skip
        preds, maxvals, heatmaps = run_inference(
            forward, dataset, records, codec, cfg, keep_heatmaps=True, desc=name
        )
        write_set(out_dir, name, names, records, preds, maxvals, heatmaps)
        print(f"{name}: {len(names)} images -> {out_dir}/pose_{name}.csv", flush=True)
    return out_dir


if __name__ == "__main__":
    main()
