"""tf.data input pipeline for GeoNet's prepared training format (DESIGN.md section 4).

A sample is `<seq>/<frame>.jpg` (seq_length frames hstacked, target in the centre) with
`<seq>/<frame>_cam.txt` (fx,0.,cx,0.,fy,cy,0.,0.,1.), listed in `train.txt` as `<seq> <frame>`.
Augmentation as the paper's: per batch, random scaling by [1, 1.15) in x and y (area
resampling) and a random crop back to the input size with the intrinsics moved accordingly; with
probability 1/2 random gamma [0.8, 1.2], brightness [0.5, 2.0] and per-channel colour [0.8, 1.2].
The reference drew the colour factors per channel of the whole stack, giving each frame of a
sample its own colour cast, which breaks the photometric constancy the losses rely on; here the
frames of a sample share them.
With several workers each reads its own shard of the file list (rank r takes every size-th line).
"""

import os

import tensorflow as tf
from utils import multi_scale_intrinsics, resized_intrinsics

from posekit import kitti


def read_file_list(dataset_dir, split):
    """(image paths, camera paths) of `<dataset_dir>/<split>.txt`, checked to exist."""
    list_file = os.path.join(dataset_dir, f"{split}.txt")
    if not os.path.isfile(list_file):
        raise FileNotFoundError(
            f"{list_file} not found: --dataset_dir must hold GeoNet's prepared format "
            "(run data/prepare_train_data.py first)"
        )
    entries = kitti.read_split(list_file)
    if not entries:
        raise ValueError(f"{list_file}: no samples listed")
    images, cams = [], []
    for line_no, entry in enumerate(entries, 1):
        image = os.path.join(dataset_dir, entry.folder, entry.frame + ".jpg")
        cam = os.path.join(dataset_dir, entry.folder, entry.frame + "_cam.txt")
        for path in (image, cam):
            if not os.path.isfile(path):
                raise FileNotFoundError(f"{list_file}:{line_no}: listed sample is missing {path}")
        images.append(image)
        cams.append(cam)
    return images, cams


def unpack_image_sequence(image_seq, img_height, img_width, num_source):
    """[H, W * seq_length, 3] -> target [H, W, 3], sources stacked on channels [H, W, 3 * n]."""
    half = num_source // 2
    frames = [image_seq[:, i * img_width : (i + 1) * img_width] for i in range(num_source + 1)]
    tgt = frames[half]
    src = tf.concat(frames[:half] + frames[half + 1 :], axis=2)
    tgt.set_shape([img_height, img_width, 3])
    src.set_shape([img_height, img_width, 3 * num_source])
    return tgt, src


def parse_cam(line):
    values = tf.io.decode_csv(line, record_defaults=[[1.0]] * 9)
    return tf.reshape(tf.stack(values), [3, 3])


def random_scale_crop(images, intrinsics, out_h, out_w):
    """Batch-wise random zoom in [1, 1.15) then a random crop of (out_h, out_w)."""
    _, in_h, in_w, _ = images.get_shape().as_list()
    scaling = tf.random.uniform([2], 1.0, 1.15)
    new_h = tf.cast(in_h * scaling[1], tf.int32)
    new_w = tf.cast(in_w * scaling[0], tf.int32)
    images = tf.image.resize_area(images, tf.stack([new_h, new_w]))
    off_y = tf.random.uniform([], 0, new_h - out_h + 1, dtype=tf.int32)
    off_x = tf.random.uniform([], 0, new_w - out_w + 1, dtype=tf.int32)
    images = tf.image.crop_to_bounding_box(images, off_y, off_x, out_h, out_w)
    # the zoom actually applied (the sizes are rounded down to whole pixels)
    zoom_x = tf.cast(new_w, tf.float32) / in_w
    zoom_y = tf.cast(new_h, tf.float32) / in_h
    crop = [tf.cast(off_x, tf.float32), tf.cast(off_y, tf.float32)]
    return images, resized_intrinsics(intrinsics, zoom_x, zoom_y, *crop)


def random_coloring(images):
    """Gamma [0.8, 1.2], brightness [0.5, 2.0] and per-channel colour [0.8, 1.2] shifts on
    [0, 255] float images of stacked frames; the same shifts for every frame of a sample."""
    num_frames = images.get_shape().as_list()[-1] // 3
    im = images / 255.0
    im = im ** tf.random.uniform([], 0.8, 1.2)
    im = im * tf.random.uniform([], 0.5, 2.0)
    im = im * tf.tile(tf.random.uniform([3], 0.8, 1.2), [num_frames])
    return tf.clip_by_value(im, 0.0, 1.0) * 255.0


def augment(images, intrinsics, out_h, out_w):
    images, intrinsics = random_scale_crop(images, intrinsics, out_h, out_w)
    images = tf.cond(tf.random.uniform([]) > 0.5, lambda: random_coloring(images), lambda: images)
    return tf.cast(tf.round(images), tf.uint8), intrinsics


class DataLoader:
    """Builds the training batches: (tgt [B,H,W,3] uint8, src [B,H,W,3n] uint8, K [B,S,3,3])."""

    def __init__(self, cfg, rank=0, num_workers=1):
        self.cfg = cfg
        self.rank = rank
        self.num_workers = num_workers

    def dataset(self, split="train", augment_data=True, repeat=True):
        cfg = self.cfg
        images, cams = read_file_list(cfg.dataset_dir, split)
        if self.num_workers > 1:
            images = images[self.rank :: self.num_workers]
            cams = cams[self.rank :: self.num_workers]
            if not images:
                raise ValueError(f"worker {self.rank}: no samples in its shard of {split}.txt")
        ds = tf.data.Dataset.from_tensor_slices((images, cams))
        if repeat:
            ds = ds.shuffle(len(images), seed=cfg.seed + self.rank, reshuffle_each_iteration=True)
            ds = ds.repeat()

        def load(image_path, cam_path):
            seq = tf.image.decode_jpeg(tf.io.read_file(image_path), channels=3)
            seq.set_shape([cfg.img_height, cfg.img_width * cfg.seq_length, 3])
            tgt, src = unpack_image_sequence(seq, cfg.img_height, cfg.img_width, cfg.num_source)
            cam = parse_cam(tf.strings.strip(tf.io.read_file(cam_path)))
            return tf.concat([tgt, src], axis=2), cam

        threads = cfg.num_threads if cfg.num_threads > 0 else tf.data.experimental.AUTOTUNE
        ds = ds.map(load, num_parallel_calls=threads)
        ds = ds.batch(cfg.batch_size, drop_remainder=True)

        def finish(stack, cam):
            stack = tf.cast(stack, tf.float32)
            if augment_data:
                stack, cam = augment(stack, cam, cfg.img_height, cfg.img_width)
            else:
                stack = tf.cast(stack, tf.uint8)
            return stack[..., :3], stack[..., 3:], multi_scale_intrinsics(cam, cfg.num_scales)

        ds = ds.map(finish, num_parallel_calls=2)
        return ds.prefetch(2)

    def load_train_batch(self):
        tgt, src, intrinsics = tf.compat.v1.data.make_one_shot_iterator(self.dataset()).get_next()
        return tgt, src, intrinsics
