"""data/prepare_train_data.py output and the tf.data pipeline."""

import os

import cv2
import numpy as np
import pytest
import tensorflow as tf
from data_loader import DataLoader
from geonet_config import config

from posekit import geometry, kitti


def test_prepared_format(prepared, synthetic_kitti):
    train = kitti.read_split(os.path.join(prepared, "train.txt"))
    val = kitti.read_split(os.path.join(prepared, "val.txt"))
    names = sorted(e.frame for e in train + val)
    assert names == [f"{i:06d}" for i in range(1, 13)]  # 14 frames, 1 neighbour each side
    assert {e.folder for e in train + val} == {"00"}
    img = cv2.imread(os.path.join(prepared, "00", "000005.jpg"))
    assert img.shape == (32, 96 * 3, 3)
    K = kitti.read_cam_txt(os.path.join(prepared, "00", "000005_cam.txt"))
    K_full = kitti.intrinsics_from_calib(
        kitti.read_calib(os.path.join(kitti.sequence_dir(synthetic_kitti, 0), "calib.txt"))
    )
    np.testing.assert_allclose(K, geometry.resized_intrinsics(K_full, 96 / 192, 32 / 64), atol=1e-5)

    # thirds in time order: frames 4, 5 (target, centre), 6 (JPEG: compare, not equal)
    def frame(i):
        full = cv2.imread(kitti.image_path(synthetic_kitti, 0, i))
        return cv2.resize(full, (96, 32), interpolation=cv2.INTER_AREA).astype(int)

    for third, i in enumerate((4, 5, 6)):
        part = img[:, 96 * third : 96 * (third + 1)].astype(int)
        errors = {j: np.abs(part - frame(j)).mean() for j in (4, 5, 6)}
        assert min(errors, key=errors.get) == i, errors


def dataset_batches(cfg, n, rank=0, size=1, augment=True):
    with tf.Graph().as_default():
        tf.compat.v1.set_random_seed(0)
        loader = DataLoader(cfg, rank, size)
        it = tf.compat.v1.data.make_one_shot_iterator(loader.dataset(augment_data=augment))
        nxt = it.get_next()
        with tf.compat.v1.Session() as sess:
            return [sess.run(nxt) for _ in range(n)]


def test_pipeline_shapes_and_unaugmented_content(prepared):
    cfg = config(mode="train_rigid", dataset_dir=prepared, img_height=32, img_width=96,
                 seq_length=3, batch_size=2, num_threads=2)  # fmt: skip
    ((tgt, src, K),) = dataset_batches(cfg, 1, augment=False)
    assert tgt.shape == (2, 32, 96, 3) and tgt.dtype == np.uint8
    assert src.shape == (2, 32, 96, 6)
    assert K.shape == (2, 4, 3, 3)
    np.testing.assert_allclose(K[:, 1, :2, :2], K[:, 0, :2, :2] / 2, rtol=1e-6)
    np.testing.assert_allclose(K[:, 1, :2, 2], (K[:, 0, :2, 2] + 0.5) / 2 - 0.5, rtol=1e-6)
    files = [
        kitti.read_cam_txt(os.path.join(prepared, "00", f"{i:06d}_cam.txt")) for i in range(1, 13)
    ]
    assert any(np.allclose(K[0, 0], f, atol=1e-4) for f in files)


def test_augmentation_moves_intrinsics_with_the_zoom_and_crop():
    # Augment a ramp image holding each pixel's column and row: every output pixel then holds
    # the input coordinates it was resampled from, which must cast the same ray. Upsampling by
    # area is blocky (a pixel takes the area-weighted mix of the one or two it overlaps), so a
    # single pixel may be off by up to half a pixel, but not on average.
    from data_loader import random_scale_crop

    K = np.array([[[60.2, 0, 47.8], [0, 59.1, 15.7], [0, 0, 1]]], np.float32)
    u, v = np.meshgrid(np.arange(96.0), np.arange(32.0))
    ramp = np.stack([u, v], axis=-1)[None].astype(np.float32)
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        tf.compat.v1.set_random_seed(0)
        op = random_scale_crop(tf.constant(ramp), tf.constant(K), 28, 90)
        zooms = set()
        for _ in range(4):
            out, k = sess.run(op)
            zooms.add(round(float(k[0, 0, 0] / K[0, 0, 0]), 4))
            inner = (slice(1, -1), slice(1, -1))  # border pixels see a clipped box
            us, vs = np.meshgrid(np.arange(90.0), np.arange(28.0))
            for axis, coords in ((0, us), (1, vs)):
                ray = (coords - k[0, axis, 2]) / k[0, axis, axis]
                full = (out[0, ..., axis] - K[0, axis, 2]) / K[0, axis, axis]
                error_px = (ray - full)[inner] * k[0, axis, axis]
                assert np.abs(error_px).max() <= 0.5 and abs(error_px.mean()) < 0.03
    assert len(zooms) > 1 and all(1.0 <= z < 1.15 for z in zooms)


def test_workers_read_disjoint_shards(prepared):
    cfg = config(mode="train_rigid", dataset_dir=prepared, img_height=32, img_width=96,
                 seq_length=3, batch_size=1, num_threads=1)  # fmt: skip
    n = len(kitti.read_split(os.path.join(prepared, "train.txt")))
    seen = []
    for rank in (0, 1):
        batches = dataset_batches(cfg, (n + 1 - rank) // 2, rank, 2, augment=False)
        seen.append({b[0].tobytes() for b in batches})
    assert seen[0] and seen[1] and not seen[0] & seen[1]


def test_missing_sample_is_reported_with_its_line(prepared, tmp_path):
    bad = tmp_path / "prep"
    bad.mkdir()
    (bad / "train.txt").write_text("00 000001\n00 999999\n")
    (bad / "00").mkdir()
    for suffix in (".jpg", "_cam.txt"):
        src = os.path.join(prepared, "00", "000001" + suffix)
        (bad / "00" / ("000001" + suffix)).write_bytes(open(src, "rb").read())
    cfg = config(mode="train_rigid", dataset_dir=str(bad))
    with pytest.raises(FileNotFoundError, match=r"train.txt:2: listed sample is missing"):
        DataLoader(cfg).dataset()


def test_colour_augmentation_is_shared_by_the_frames_of_a_sample():
    from data_loader import random_coloring

    frame = np.random.default_rng(0).uniform(0, 255, (1, 8, 8, 3)).astype(np.float32)
    stack = np.concatenate([frame] * 3, axis=3)
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        out = sess.run(random_coloring(tf.constant(stack)))
    np.testing.assert_allclose(out[..., 0:3], out[..., 3:6])
    np.testing.assert_allclose(out[..., 0:3], out[..., 6:9])
    assert not np.allclose(out, stack)
