"""Build the PoseEstNet data folder from a VeRi download: copy the images the labels list.

python src/utils/create_dataset.py --veri /path/to/VeRi --PoseData data/veri

--PoseData must already hold annot/label_train.csv and annot/label_test.csv (the PAMTRI labels:
`posekit download veri --root ...` fetches them). The images named there are copied from
<veri>/image_train/ and <veri>/image_test/ to <PoseData>/images/image_{train,test}/. Images
already in place with the same size are left alone; missing ones are listed and the exit status
is 1, after everything available has been copied.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from tqdm import tqdm

from posekit import veri

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def copy_split(veri_root, pose_root, split):
    """-> (copied, already there, missing names) for one split."""
    labels = veri.read_labels(veri.label_path(pose_root, split))
    src_dir = os.path.join(veri_root, "image_" + split)
    dst_dir = veri.image_dir(pose_root, split)
    os.makedirs(dst_dir, exist_ok=True)
    copied, present, missing = 0, 0, []
    for name in tqdm(labels.names, desc=f"image_{split}", unit="img"):
        src, dst = os.path.join(src_dir, name), os.path.join(dst_dir, name)
        if not os.path.isfile(src):
            missing.append(name)
            continue
        if os.path.isfile(dst) and os.path.getsize(dst) == os.path.getsize(src):
            present += 1
            continue
        shutil.copyfile(src, dst + ".part")
        os.replace(dst + ".part", dst)
        copied += 1
    return copied, present, missing


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--veri", required=True, help="VeRi-776 folder with image_train/, image_test/")
    p.add_argument("--PoseData", required=True, help="PoseEstNet data folder (annot/ inside)")
    args = p.parse_args(argv)
    for split in ("train", "test"):
        label = os.path.join(args.PoseData, "annot", f"label_{split}.csv")
        if not os.path.isfile(label):
            sys.exit(
                f"{label} not found: get the PAMTRI labels first, e.g. `posekit download veri "
                f"--root {os.path.dirname(os.path.abspath(args.PoseData))}` (they come from "
                "https://github.com/NVlabs/PAMTRI/tree/master/PoseEstNet/data/veri/annot)"
            )
        if not os.path.isdir(os.path.join(args.veri, "image_" + split)):
            sys.exit(f"{args.veri}: no image_{split}/ folder (expected the unpacked VeRi-776)")
    status = 0
    for split in ("train", "test"):
        copied, present, missing = copy_split(args.veri, args.PoseData, split)
        print(f"image_{split}: {copied} copied, {present} already there, {len(missing)} missing")
        if missing:
            status = 1
            shown = ", ".join(missing[:10])
            more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
            print(f"  missing from {args.veri}/image_{split}: {shown}{more}")
    return status


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    sys.exit(main())
