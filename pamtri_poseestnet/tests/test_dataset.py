"""VeRi samples: boxes, augmentation, flip pairs, and evaluation batches that keep every image."""

import numpy as np
import pytest
from src.dataset.dataset import create_dataset
from src.dataset.veri import load_records, make_source

from posekit import topdown, veri


def test_records_take_the_whole_image_as_the_box(tiny_veri, tiny_cfg):
    root, labels = tiny_veri
    _, records = load_records(tiny_cfg, root, "test")
    w, h = labels["test"].sizes[0]
    assert records[0]["center"].tolist() == [w / 2, h / 2]  # as the reference: width * 0.5
    side = max(w, h)  # square input: the shorter side grows
    assert np.allclose(records[0]["scale"], [side * 1.25 / 200] * 2)
    assert records[0]["image"].endswith(labels["test"].names[0])


def test_training_samples_are_repeatable_and_weighted_by_visibility(tiny_veri, tiny_cfg):
    root, labels = tiny_veri
    _, records = load_records(tiny_cfg, root, "train")
    a = make_source(tiny_cfg, records, train=True, seed=5)[2]
    b = make_source(tiny_cfg, records, train=True, seed=5)[2]
    image, target, weight = a
    assert image.shape == (3, 64, 64) and image.dtype == np.float32
    assert target.shape == (36, 16, 16) and weight.shape == (36,)
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    assert (weight <= labels["train"].visible[2]).all()  # hidden joints are never trained


def test_flip_augmentation_swaps_the_sides(tiny_veri, tiny_cfg):
    root, _ = tiny_veri
    _, records = load_records(tiny_cfg, root, "train")
    plain = dict(tiny_cfg.DATASET, SCALE_FACTOR=0.0, ROT_PROB=0.0, FLIP=False)
    flipped = dict(plain, FLIP=True)
    cfg_plain = type(tiny_cfg)(tiny_cfg, DATASET=type(tiny_cfg)(plain))
    cfg_flip = type(tiny_cfg)(tiny_cfg, DATASET=type(tiny_cfg)(flipped))
    rec = [dict(records[0], visible=np.ones(36, np.float32))]
    image, target, _ = make_source(cfg_plain, rec, train=True)[0]
    for seed in range(20):  # find a seed whose coin flips the image
        f_image, f_target, _ = make_source(cfg_flip, rec, train=True, seed=seed)[0]
        if not np.array_equal(f_image, image):
            break
    else:
        pytest.fail("no flipped sample in 20 seeds")
    # the crop is mirrored up to the reference's one-pixel centre convention; joint 0's map in
    # the mirrored sample must peak where joint 18 peaks in the plain one, mirrored
    coords, _ = topdown.decode_heatmaps(target[None])
    f_coords, _ = topdown.decode_heatmaps(f_target[None])
    for a, b in veri.FLIP_PAIRS:
        assert abs(f_coords[0, a, 1] - coords[0, b, 1]) <= 0.5
        assert abs(f_coords[0, a, 0] - (16 - 1 - coords[0, b, 0])) <= 1.0


def test_evaluation_batches_keep_the_remainder(tiny_veri, tiny_cfg):
    root, labels = tiny_veri
    dataset, _, records = create_dataset(tiny_cfg, root, train=False, batch_size=2)
    seen = []
    for image, index in dataset.create_tuple_iterator(output_numpy=True):
        assert image.shape[1:] == (3, 64, 64)
        seen += index.tolist()
    assert sorted(seen) == list(range(len(labels["test"]))) == list(range(5))


def test_training_batches_are_sharded(tiny_veri, tiny_cfg):
    root, _ = tiny_veri
    counts = []
    for rank in (0, 1):
        dataset, _, _ = create_dataset(
            tiny_cfg, root, train=True, batch_size=1, rank=rank, group_size=2
        )
        counts.append(dataset.get_dataset_size())
    assert counts == [3, 3]  # 6 images over 2 ranks
