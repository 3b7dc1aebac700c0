"""Top-down samples for a random-access data pipeline: one box -> (augmented) crop + targets.

`TopDownSource` is what a loader that asks for items by index reads (MindSpore's
GeneratorDataset in pamtri_poseestnet and simple_baselines): for training an augmented, normalised
crop with the heatmap targets and joint weights of a `posekit.topdown.TopDownCodec`, for evaluation
the plain crop and the record's index (the record itself stays host-side).

Augmentation as the reference (Xiao et al.; HRNet): scale x clip(1 + sf N(0,1), 1 - sf, 1 + sf),
rotation clip(rf N(0,1), -2 rf, 2 rf) degrees with probability `rot_prob`, horizontal flip with
probability 0.5 (left/right joints swapped). Each sample's random numbers come from
(seed, index, visit), the visit counting how often that index was read, so a run is repeatable
whatever the number of pipeline workers and every epoch draws anew.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import NamedTuple, Optional

import numpy as np
from PIL import Image

from posekit import topdown

# the ImageNet RGB statistics that ImageNet-pretrained backbones expect
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


def read_rgb(path: str, hint: Optional[str] = None) -> np.ndarray:
    """HxWx3 uint8 RGB image; a missing file raises FileNotFoundError naming it (and `hint`, what
    to do about it)."""
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"))
    except FileNotFoundError:
        more = f" ({hint})" if hint else ""
        raise FileNotFoundError(f"image not found: {path}{more}") from None


def normalize(crop: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 RGB -> 3xHxW float32 normalised with the ImageNet mean/std."""
    scaled = crop.astype(np.float32) / 255.0
    return np.ascontiguousarray(((scaled - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1))


class Augmentation(NamedTuple):
    """Training augmentation: scale and rotation (degrees) spreads, rotation probability, flip."""

    scale_factor: float
    rot_factor: float
    rot_prob: float
    flip: bool


class TopDownSource:
    """Random-access samples of `records` (dicts with image path, box centre and scale, (K, 2)
    joints and (K,) visibility, as the models' record builders make them).

    train: (image, target, target_weight), augmented; eval: (image, index). `image_hint` is added
    to the error for a missing image. `visits` counts the reads of each index.
    """

    def __init__(
        self,
        records,
        codec: topdown.TopDownCodec,
        train: bool,
        augmentation: Optional[Augmentation] = None,
        seed: int = 0,
        image_hint: Optional[str] = None,
    ):
        if train and augmentation is None:
            raise ValueError("a training source needs its Augmentation")
        self.records = records
        self.codec = codec
        self.train = train
        self.augmentation = augmentation
        self.seed = seed
        self.image_hint = image_hint
        self.visits = defaultdict(int)
        self._lock = threading.Lock()  # pipeline workers are threads reading concurrently

    def __len__(self):
        return len(self.records)

    def _rng(self, index):
        with self._lock:
            visit = self.visits[index]
            self.visits[index] += 1
        return np.random.default_rng([self.seed, index, visit])

    def __getitem__(self, index):
        index = int(index)
        rec = self.records[index]
        image = read_rgb(rec["image"], self.image_hint)
        center, scale = rec["center"].copy(), rec["scale"].copy()
        if not self.train:
            crop, _ = self.codec.crop(image, center, scale)
            return normalize(crop), np.array(index, np.int32)
        joints, visible = rec["joints"], rec["visible"]
        aug = self.augmentation
        rng = self._rng(index)
        sf, rf = aug.scale_factor, aug.rot_factor
        scale = scale * np.clip(rng.standard_normal() * sf + 1, 1 - sf, 1 + sf)
        rotation = np.clip(rng.standard_normal() * rf, -2 * rf, 2 * rf)
        rotation = rotation if rng.uniform() <= aug.rot_prob else 0.0
        if aug.flip and rng.uniform() <= 0.5:
            image = image[:, ::-1]
            joints, visible = topdown.flip_joints(
                joints, visible, image.shape[1], self.codec.flip_pairs
            )
            center[0] = image.shape[1] - center[0] - 1
        crop, in_joints = self.codec.crop(image, center, scale, rotation, joints)
        target, weight = self.codec.encode(in_joints, visible)
        return normalize(crop), target, weight
