"""VeRi keypoint samples: one vehicle image -> warped crop + 36 heatmap targets.

Every VeRi image is already a crop of one vehicle, so the box is the whole image: centre
(w/2, h/2), scale = the image grown to the input's aspect ratio, x 1.25 (as the reference).
Images are read as RGB with Pillow and normalised with the ImageNet RGB mean/std (what the
ImageNet weights expect).

Training augmentation as the seed: scale x clip(1 + 0.25 N(0,1), 0.75, 1.25); rotation
clip(30 N(0,1), -60, 60) degrees with probability 0.6; horizontal flip with probability 0.5,
swapping the pairs (i, i + 18). Target weights are the visibility labels: hidden joints are not
trained, as in the reference. Each sample's random numbers come from (seed, index, visit), so a
run is repeatable whatever the number of pipeline workers.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict

import numpy as np
from PIL import Image

from posekit import topdown, veri

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def read_rgb(path):
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"image not found: {path} (listed in the label CSV; run src/utils/create_dataset.py "
            "to copy the VeRi images into images/image_<split>/)"
        ) from None


def normalize(crop):
    """HxWx3 uint8 RGB -> 3xHxW float32 normalised."""
    return np.ascontiguousarray(((crop.astype(np.float32) / 255.0 - MEAN) / STD).transpose(2, 0, 1))


def make_codec(cfg):
    return topdown.TopDownCodec(
        cfg.MODEL.IMAGE_SIZE, cfg.MODEL.HEATMAP_SIZE, sigma=cfg.MODEL.SIGMA,
        flip_pairs=veri.FLIP_PAIRS,
    )  # fmt: skip


def load_records(cfg, root, split):
    """Label rows of a split -> (labels, records with image path, centre, scale, joints, vis)."""
    labels = veri.read_labels(veri.label_path(root, split))
    codec = make_codec(cfg)
    folder = veri.image_dir(root, split)
    records = []
    for i, name in enumerate(labels.names):
        center, scale = codec.box_to_center_scale(labels.boxes()[i])
        records.append(
            {
                "image": os.path.join(folder, name),
                "center": center,
                "scale": scale,
                "joints": labels.joints[i].astype(np.float64),
                "visible": labels.visible[i].astype(np.float32),
            }
        )
    return labels, records


class VeRiSource:
    """Random-access source for GeneratorDataset.

    train: (image, target, target_weight); eval: (image, index), the record staying host-side.
    """

    def __init__(self, cfg, records, train, seed=0):
        self.cfg = cfg
        self.records = records
        self.train = train
        self.seed = seed
        self.codec = make_codec(cfg)
        self._visits = defaultdict(int)
        self._lock = threading.Lock()

    def __len__(self):
        return len(self.records)

    def _rng(self, index):
        with self._lock:
            visit = self._visits[index]
            self._visits[index] += 1
        return np.random.default_rng([self.seed, index, visit])

    def __getitem__(self, index):
        index = int(index)
        rec = self.records[index]
        image = read_rgb(rec["image"])
        center, scale = rec["center"].copy(), rec["scale"].copy()
        if not self.train:
            crop, _ = self.codec.crop(image, center, scale)
            return normalize(crop), np.array(index, np.int32)
        joints, visible = rec["joints"], rec["visible"]
        aug = self.cfg.DATASET
        rng = self._rng(index)
        sf, rf = aug.SCALE_FACTOR, aug.ROT_FACTOR
        scale = scale * np.clip(rng.standard_normal() * sf + 1, 1 - sf, 1 + sf)
        rotation = np.clip(rng.standard_normal() * rf, -2 * rf, 2 * rf)
        rotation = rotation if rng.uniform() <= aug.ROT_PROB else 0.0
        if aug.FLIP and rng.uniform() <= 0.5:
            image = image[:, ::-1]
            joints, visible = topdown.flip_joints(
                joints, visible, image.shape[1], self.codec.flip_pairs
            )
            center[0] = image.shape[1] - center[0] - 1
        crop, in_joints = self.codec.crop(image, center, scale, rotation, joints)
        target, weight = self.codec.encode(in_joints, visible)
        return normalize(crop), target, weight
