"""Training batches for Pix2Pose: crops from 2_2 pasted on backgrounds, with the reference
data generator's augmentations (pix2pose_util/data_io.py), re-implemented with OpenCV:

- colour: per-channel offset +-15, contrast x0.8-1.3, per-channel gain x0.8-1.2, Gaussian blur
  sigma <= 0.5, sometimes noise (sigma 10) and strong contrast x0.5-2.2;
- background: a random image from a folder (COCO train2017 in the paper; any images work), or
  procedural clutter when no folder is given;
- crop jitter: box centre +-5 px, box size x(1 +- 0.3), square crop of 1.5 x the larger side;
- occlusion: a random rectangle (0.2-0.7 of the crop) of background pasted over the object;
  the target keeps the whole object, so the network learns to fill occluded parts;
- every second batch imitates the second inference stage: background outside the (blurred)
  object mask set to grey, a grey hole in the object and a patch of background let back in;
- in-plane rotation +-15 deg, resize to the network size.
A sample is (input in [-1, 1], target normalised coordinates (0 = background), object mask).
"""

from __future__ import annotations

import os
import queue
import threading
from typing import List, Optional

import cv2
import numpy as np

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp")


def list_crops(data_dir: str) -> List[str]:
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(
            f"{data_dir}: no training crops; run 2_2_render_pix2pose_training.py"
        )
    files = sorted(os.path.join(data_dir, f) for f in os.listdir(data_dir) if f.endswith(".npy"))
    if not files:
        raise FileNotFoundError(f"{data_dir}: no .npy training crops found")
    return files


def load_crop(path: str) -> np.ndarray:
    crop = np.load(path)
    if crop.ndim != 3 or crop.shape[2] < 6 or crop.dtype != np.uint8:
        raise ValueError(
            f"{path}: expected an (H, W, 6) uint8 crop (RGB + xyz colour), "
            f"got {crop.shape} {crop.dtype}"
        )
    return crop


class Backgrounds:
    """Random background images from a folder (recursively), or procedural ones."""

    POOL_SIZE, POOL_SIDE = 64, 256

    def __init__(self, folder: Optional[str], rng: np.random.RandomState):
        self.rng = rng
        self.files, self.pool = [], []
        if folder:
            if not os.path.isdir(folder):
                raise FileNotFoundError(f"{folder}: background folder not found")
            for root, _, names in os.walk(folder):
                self.files += [
                    os.path.join(root, n) for n in names if n.lower().endswith(IMAGE_EXTS)
                ]
            self.files.sort()
            if not self.files:
                raise FileNotFoundError(f"{folder}: no background images ({', '.join(IMAGE_EXTS)})")

    def sample(self, h: int, w: int) -> np.ndarray:
        if self.files:
            path = self.files[self.rng.randint(len(self.files))]
            img = cv2.imread(path, cv2.IMREAD_COLOR)
            if img is None:
                raise ValueError(f"{path}: cannot read background image")
            img = img[:, :, ::-1]
            if img.shape[0] < h or img.shape[1] < w:
                s = max(h / img.shape[0], w / img.shape[1])
                img = cv2.resize(
                    img, (int(np.ceil(img.shape[1] * s)), int(np.ceil(img.shape[0] * s)))
                )
            y = self.rng.randint(img.shape[0] - h + 1)
            x = self.rng.randint(img.shape[1] - w + 1)
            return np.ascontiguousarray(img[y : y + h, x : x + w])
        # Procedural backgrounds come from a fixed pool of large images (cheap random crops).
        if len(self.pool) < self.POOL_SIZE:
            self.pool.append(self.procedural(self.POOL_SIDE, self.POOL_SIDE))
        img = self.pool[self.rng.randint(len(self.pool))]
        if h > img.shape[0] or w > img.shape[1]:
            img = cv2.resize(img, (max(w, img.shape[1]), max(h, img.shape[0])))
        y, x = self.rng.randint(img.shape[0] - h + 1), self.rng.randint(img.shape[1] - w + 1)
        out = img[y : y + h, x : x + w]
        return np.ascontiguousarray(out[:, ::-1] if self.rng.rand() < 0.5 else out)

    def procedural(self, h: int, w: int) -> np.ndarray:
        r = self.rng
        img = np.empty((h, w, 3), np.float32)
        c0, c1 = r.uniform(0, 255, 3), r.uniform(0, 255, 3)
        g = (
            np.linspace(0, 1, w)[None, :, None]
            if r.rand() < 0.5
            else np.linspace(0, 1, h)[:, None, None]
        )
        img[:] = c0 * (1 - g) + c1 * g
        for _ in range(r.randint(3, 12)):
            color = tuple(float(v) for v in r.uniform(0, 255, 3))
            p1 = (int(r.randint(w)), int(r.randint(h)))
            if r.rand() < 0.5:
                cv2.circle(img, p1, int(r.randint(3, max(4, w // 3))), color, -1)
            else:
                p2 = (int(r.randint(w)), int(r.randint(h)))
                cv2.line(img, p1, p2, color, int(r.randint(1, 8)))
        img += r.normal(0, r.uniform(2, 12), img.shape)
        return np.clip(img, 0, 255).astype(np.uint8)


def color_augment(rgb: np.ndarray, r: np.random.RandomState) -> np.ndarray:
    x = rgb.astype(np.float32)
    x += r.uniform(-15, 15, 3)
    x = (x - 128) * r.uniform(0.8, 1.3) + 128
    x *= r.uniform(0.8, 1.2, 3) if r.rand() < 0.5 else r.uniform(0.8, 1.2)
    sigma = r.uniform(0, 0.5)
    if sigma > 0.05:
        x = cv2.GaussianBlur(x, (0, 0), sigma)
    if r.rand() < 0.1:
        x += r.normal(0, 10, x.shape)
    if r.rand() < 0.5:
        k = r.uniform(0.5, 2.2, 3) if r.rand() < 0.3 else r.uniform(0.5, 2.2)
        x = (x - 128) * k + 128
    return np.clip(x, 0, 255).astype(np.uint8)


def _rect(r, cy, cx, h, w, frac_lo, frac_hi, spread=0.5):
    """A random rectangle (y0, y1, x0, x1) of size frac x (h, w) near the box centre."""
    rh, rw = int((r.uniform(frac_lo, frac_hi)) * h), int((r.uniform(frac_lo, frac_hi)) * w)
    y0 = int(cy + r.uniform(-spread, spread) * h)
    x0 = int(cx + r.uniform(-spread, spread) * w)
    return max(y0, 0), max(y0 + rh, 0), max(x0, 0), max(x0 + rw, 0)


def make_sample(
    crop: np.ndarray, bgs: Backgrounds, r: np.random.RandomState, size: int, stage2: bool
):
    rgb, xyz_col = crop[:, :, :3], crop[:, :, 3:6]
    obj = xyz_col.astype(np.int32).sum(2) > 0
    ph, pw = obj.shape
    H, W = max(2 * ph, 64), max(2 * pw, 64)
    back = bgs.sample(H, W)
    v0, u0 = r.randint(10, max(11, H - ph - 10)), r.randint(10, max(11, W - pw - 10))
    image = back.copy()
    patch = color_augment(rgb, r)
    region = image[v0 : v0 + ph, u0 : u0 + pw]
    region[obj] = patch[obj]
    target = np.zeros((H, W, 3), np.float32)
    target[v0 : v0 + ph, u0 : u0 + pw][obj] = xyz_col[obj].astype(np.float32) / 127.5 - 1.0
    mask = np.zeros((H, W), np.float32)
    mask[v0 : v0 + ph, u0 : u0 + pw] = obj
    # crop jitter around the object box
    cy, cx = v0 + ph / 2 + r.uniform(-5, 5), u0 + pw / 2 + r.uniform(-5, 5)
    bh, bw = ph * (1 + r.uniform(-0.3, 0.3)), pw * (1 + r.uniform(-0.3, 0.3))
    side = max(int(1.5 * max(bh, bw)), 8)
    # occlusion by background
    y0, y1, x0, x1 = _rect(r, v0 + ph / 2, u0 + pw / 2, bh, bw, 0.2, 0.7)
    image[y0:y1, x0:x1] = back[y0:y1, x0:x1]
    src = image.astype(np.float32) / 127.5 - 1.0
    if stage2:
        soft = cv2.GaussianBlur(mask, (0, 0), float(np.clip(r.normal(0.5, 0.3), 0.1, 1.0))) > 0
        keep = soft & (np.linalg.norm(target, axis=2) > 0.3) if r.rand() < 0.5 else soft
        y0, y1, x0, x1 = _rect(r, v0 + ph / 2, u0 + pw / 2, bh, bw, 0.0, 0.5)
        keep[y0:y1, x0:x1] = False
        y0, y1, x0, x1 = _rect(r, v0 + ph / 2, u0 + pw / 2, bh, bw, 0.0, 0.5)
        keep[y0:y1, x0:x1] |= mask[y0:y1, x0:x1] == 0
        src[~keep] = 0.0
    # square crop (zero padding outside), rotation, resize in one affine warp
    angle = r.uniform(-15, 15)
    M = cv2.getRotationMatrix2D((cx, cy), angle, size / side)
    M[:, 2] += size / 2.0 - np.array([cx, cy])
    flags = dict(dsize=(size, size), borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    src_c = cv2.warpAffine(src, M, flags=cv2.INTER_LINEAR, **flags)
    tgt_c = cv2.warpAffine(target, M, flags=cv2.INTER_NEAREST, **flags)
    mask_c = cv2.warpAffine(mask, M, flags=cv2.INTER_NEAREST, **flags)
    return src_c, tgt_c, mask_c


class BatchGenerator:
    """Endless batches (src, target, mask) from one object's crops; seeded, so reproducible."""

    def __init__(
        self, data_dir: str, bg_dir: Optional[str], batch_size: int, size: int, seed: int = 0
    ):
        self.files = list_crops(data_dir)
        self.crops = [load_crop(f) for f in self.files]
        self.rng = np.random.RandomState(seed)
        self.bgs = Backgrounds(bg_dir, self.rng)
        self.batch_size, self.size = batch_size, size
        self.count = 0

    @property
    def n_data(self) -> int:
        return len(self.crops)

    def next(self):
        stage2 = self.count % 2 == 0
        self.count += 1
        out = [
            make_sample(
                self.crops[self.rng.randint(len(self.crops))], self.bgs, self.rng, self.size, stage2
            )
            for _ in range(self.batch_size)
        ]
        return tuple(np.stack(a).astype(np.float32) for a in zip(*out))


class Prefetcher:
    """Makes the next batches in one background thread while TensorFlow trains on the current
    one (TF releases the GIL); one producer keeps the batch order, so runs stay reproducible."""

    def __init__(self, gen: BatchGenerator, depth: int = 2):
        self.gen = gen
        self.q = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                item = self.gen.next()
            except Exception as exc:  # handed to the consumer, which re-raises it
                item = exc
            while not self.stop.is_set():
                try:
                    self.q.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if isinstance(item, Exception):
                return

    def next(self):
        item = self.q.get()
        if isinstance(item, Exception):
            raise item
        return item

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)
