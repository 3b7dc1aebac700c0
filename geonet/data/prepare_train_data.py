"""KITTI odometry tree -> GeoNet's prepared training format (the reference's `kitti_odom` mode).

For every frame whose +-(seq_length-1)/2 neighbours exist in the same sequence, writes
`<dump_root>/<seq>/<frame>.jpg` (the frames resized to img_height x img_width and hstacked in time
order, so the target sits in the centre), `<dump_root>/<seq>/<frame>_cam.txt` (P2's intrinsics
moved to the resized pixels, `fx,0.,cx,0.,fy,cy,0.,0.,1.`), and `train.txt` / `val.txt` (`<seq> <frame>`,
about 10 % to val, seeded as the reference: 8964). Images are read and resized with OpenCV
(area resampling); the reference's scipy.misc calls no longer exist.

    python data/prepare_train_data.py --dataset_dir=/data/kitti_odom/ --dataset_name=kitti_odom \
        --dump_root=/data/geonet_odom/ --seq_length=5 --img_height=128 --img_width=416
"""

import argparse
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from posekit import geometry, kitti  # noqa: E402

TRAIN_SEQS = list(range(9))  # KITTI odometry: 00-08 train, 09-10 test


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset_dir", required=True, help="KITTI odometry root (sequences/, poses/)")
    p.add_argument("--dataset_name", default="kitti_odom", choices=["kitti_odom"])
    p.add_argument("--dump_root", required=True, help="where to write the prepared data")
    p.add_argument("--seq_length", type=int, required=True, help="frames per sample (odd)")
    p.add_argument("--img_height", type=int, default=128)
    p.add_argument("--img_width", type=int, default=416)
    p.add_argument("--num_threads", type=int, default=4)
    p.add_argument(
        "--sequences", type=int, nargs="+", default=TRAIN_SEQS,
        help="sequences to prepare (default 0-8; those missing on disk are skipped with a note)",
    )  # fmt: skip
    p.add_argument("--val_fraction", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=8964)
    return p.parse_args(argv)


def load_image(path):
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"{path}: not a readable image")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def dump_example(args, seq, n_frames, K, tgt):
    half = (args.seq_length - 1) // 2
    frames = []
    zoom = None
    for idx in range(tgt - half, tgt + half + 1):
        img = load_image(kitti.image_path(args.dataset_dir, seq, idx))
        if zoom is None:
            zoom = (args.img_width / img.shape[1], args.img_height / img.shape[0])
        frames.append(
            cv2.resize(img, (args.img_width, args.img_height), interpolation=cv2.INTER_AREA)
        )
    K = geometry.resized_intrinsics(K, *zoom)
    out_dir = os.path.join(args.dump_root, f"{seq:02d}")
    name = f"{tgt:06d}"
    stacked = np.hstack(frames)
    if not cv2.imwrite(os.path.join(out_dir, name + ".jpg"), cv2.cvtColor(stacked, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {os.path.join(out_dir, name + '.jpg')}")
    kitti.write_cam_txt(os.path.join(out_dir, name + "_cam.txt"), K)
    return f"{seq:02d}", name


def main(argv=None):
    args = parse_args(argv)
    if args.seq_length < 3 or args.seq_length % 2 == 0:
        raise SystemExit(f"--seq_length must be odd and >= 3, got {args.seq_length}")
    half = (args.seq_length - 1) // 2
    os.makedirs(args.dump_root, exist_ok=True)
    jobs = []
    for seq in args.sequences:
        seq_dir = kitti.sequence_dir(args.dataset_dir, seq)
        if not os.path.isdir(seq_dir):
            print(f"sequence {seq:02d}: not in {args.dataset_dir}, skipped")
            continue
        n_frames = kitti.count_frames(args.dataset_dir, seq)
        K = kitti.intrinsics_from_calib(kitti.read_calib(os.path.join(seq_dir, "calib.txt")))
        os.makedirs(os.path.join(args.dump_root, f"{seq:02d}"), exist_ok=True)
        jobs += [(seq, n_frames, K, t) for t in range(half, n_frames - half)]
        print(f"sequence {seq:02d}: {n_frames} frames, {max(0, n_frames - 2 * half)} samples")
    if not jobs:
        raise SystemExit(f"no KITTI odometry sequence found under {args.dataset_dir}/sequences")
    written = []
    with ThreadPoolExecutor(max(1, args.num_threads)) as pool:
        futures = [pool.submit(dump_example, args, *job) for job in jobs]
        for i, fut in enumerate(futures, 1):
            written.append(fut.result())
            if i % 500 == 0 or i == len(futures):
                print(f"Progress {i}/{len(futures)}", flush=True)
    rng = np.random.RandomState(args.seed)
    train, val = [], []
    for entry in written:
        (val if rng.random_sample() < args.val_fraction else train).append(entry)
    kitti.write_split(os.path.join(args.dump_root, "train.txt"), train)
    kitti.write_split(os.path.join(args.dump_root, "val.txt"), val)
    print(f"{len(train)} train / {len(val)} val samples in {args.dump_root}")


if __name__ == "__main__":
    main()
