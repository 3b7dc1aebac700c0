"""posekit.topdown_samples: image reading, normalisation, and the random-access source (seeded per
sample and visit, affine crop, codec targets, flip pairs, evaluation samples)."""

import numpy as np
import pytest
from PIL import Image

from posekit import topdown
from posekit.topdown_samples import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    Augmentation,
    TopDownSource,
    normalize,
    read_rgb,
)

PAIRS = [(0, 1), (2, 3)]
AUG = Augmentation(scale_factor=0.25, rot_factor=30, rot_prob=0.6, flip=True)


@pytest.fixture
def records(tmp_path):
    rng = np.random.default_rng(0)
    codec = topdown.TopDownCodec((32, 48), (8, 12), flip_pairs=PAIRS)
    out = []
    for i in range(3):
        path = str(tmp_path / f"{i}.png")
        Image.fromarray(rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)).save(path)
        center, scale = codec.box_to_center_scale([10 + i, 5, 40, 50])
        joints = np.stack([rng.uniform(15, 45, 5), rng.uniform(10, 50, 5)], 1)
        out.append({"image": path, "center": center, "scale": scale, "joints": joints,
                    "visible": np.array([1, 1, 1, 1, 0], np.float32)})  # fmt: skip
    return codec, out


def test_read_rgb_converts_and_names_a_missing_file(tmp_path):
    Image.fromarray(np.full((4, 5), 7, np.uint8)).save(str(tmp_path / "grey.png"))
    image = read_rgb(str(tmp_path / "grey.png"))
    assert image.shape == (4, 5, 3) and image.dtype == np.uint8 and (image == 7).all()
    with pytest.raises(FileNotFoundError, match=r"^image not found: .*none.jpg$"):
        read_rgb(str(tmp_path / "none.jpg"))
    with pytest.raises(FileNotFoundError, match=r"none.jpg \(copy the images first\)$"):
        read_rgb(str(tmp_path / "none.jpg"), "copy the images first")


def test_normalize_is_channels_first_imagenet_statistics():
    crop = np.random.default_rng(1).integers(0, 255, (6, 4, 3), dtype=np.uint8)
    out = normalize(crop)
    assert out.shape == (3, 6, 4) and out.dtype == np.float32 and out.flags.c_contiguous
    restored = (out.transpose(1, 2, 0) * IMAGENET_STD + IMAGENET_MEAN) * 255
    np.testing.assert_allclose(restored, crop, atol=1e-3)


def test_evaluation_sample_is_the_plain_crop_and_its_index(records):
    codec, recs = records
    image, index = TopDownSource(recs, codec, train=False)[np.int64(2)]
    crop, _ = codec.crop(read_rgb(recs[2]["image"]), recs[2]["center"], recs[2]["scale"])
    np.testing.assert_array_equal(image, normalize(crop))
    assert index.dtype == np.int32 and int(index) == 2


def test_training_samples_are_seeded_by_sample_and_visit(records):
    codec, recs = records
    a = TopDownSource(recs, codec, True, AUG, seed=7)
    b = TopDownSource(recs, codec, True, AUG, seed=7)
    first = a[1]
    b[0]  # another sample read first (another worker order) changes nothing
    for x, y in zip(first, b[1]):
        np.testing.assert_array_equal(x, y)
    second = a[1]  # the next epoch draws anew
    assert not np.array_equal(first[0], second[0])
    assert dict(a.visits) == {1: 2} and dict(b.visits) == {0: 1, 1: 1}
    image, target, weight = first
    assert image.shape == (3, 48, 32) and target.shape == (5, 12, 8) and weight.shape == (5,)
    assert weight[4] == 0  # unlabelled joints (4 has no flip partner) are never trained


def test_training_sample_follows_the_reference_draws(records):
    # the draws, in order: scale, rotation, rotation coin, flip coin, from (seed, index, visit)
    codec, recs = records
    rec = recs[2]
    rng = np.random.default_rng([3, 2, 0])
    scale = rec["scale"] * np.clip(rng.standard_normal() * 0.25 + 1, 0.75, 1.25)
    rotation = np.clip(rng.standard_normal() * 30, -60, 60)
    rotation = rotation if rng.uniform() <= 0.6 else 0.0
    image, joints, visible = read_rgb(rec["image"]), rec["joints"], rec["visible"]
    center = rec["center"].copy()
    if rng.uniform() <= 0.5:
        image = image[:, ::-1]
        joints, visible = topdown.flip_joints(joints, visible, image.shape[1], PAIRS)
        center[0] = image.shape[1] - center[0] - 1
    crop, in_joints = codec.crop(image, center, scale, rotation, joints)
    expected = (normalize(crop),) + codec.encode(in_joints, visible)
    for got, want in zip(TopDownSource(recs, codec, True, AUG, seed=3)[2], expected):
        np.testing.assert_array_equal(got, want)


def test_unaugmented_targets_decode_to_the_joints(records):
    codec, recs = records
    source = TopDownSource(recs, codec, True, Augmentation(0.0, 0.0, 0.0, False))
    _, target, weight = source[0]
    rec = recs[0]
    coords, _ = codec.decode(target[None], rec["center"][None], rec["scale"][None])
    stride = rec["scale"][0] * 200 / 8  # image pixels per heatmap pixel
    ok = weight > 0
    assert ok.sum() == 4
    assert np.abs(coords[0][ok] - rec["joints"][ok]).max() <= 0.5 * stride


def test_flip_swaps_the_pairs(records):
    codec, recs = records
    rec = [dict(recs[0], visible=np.ones(5, np.float32))]
    _, plain, _ = TopDownSource(rec, codec, True, Augmentation(0.0, 0.0, 0.0, False))[0]
    for seed in range(20):  # a seed whose coin flips the sample
        _, flipped, _ = TopDownSource(rec, codec, True, Augmentation(0.0, 0.0, 0.0, True), seed)[0]
        if not np.array_equal(flipped, plain):
            break
    else:
        pytest.fail("no flipped sample in 20 seeds")
    got, _ = topdown.decode_heatmaps(flipped[None])
    want, _ = topdown.decode_heatmaps(plain[None])
    for a, b in PAIRS + [(4, 4)]:
        assert abs(got[0, a, 1] - want[0, b, 1]) <= 0.5
        assert abs(got[0, a, 0] - (8 - 1 - want[0, b, 0])) <= 1.0


def test_a_training_source_needs_its_augmentation(records):
    codec, recs = records
    with pytest.raises(ValueError, match="needs its Augmentation"):
        TopDownSource(recs, codec, train=True)
