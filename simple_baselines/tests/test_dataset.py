import numpy as np
import pytest
from src.config import get_config
from src.dataset import build_records, create_dataset, make_source

from posekit import topdown
from posekit.synth import coco as synth
from posekit.topdown_samples import IMAGENET_MEAN, IMAGENET_STD

SMALL = ["NETWORK.NUM_LAYERS=18", "MODEL.IMAGE_SIZE=[64,96]", "NETWORK.HEATMAP_SIZE=[16,24]"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("coco")
    synth.generate(str(root), train=4, val=3, seed=3)
    return str(root)


def test_records_from_gt_and_detections(data):
    cfg = get_config(overrides=SMALL)
    train = build_records(cfg, data, train=True)
    gt = build_records(cfg, data, train=False, use_gt_bbox=True)
    det = build_records(cfg, data, train=False, use_gt_bbox=False)
    assert len(train) > 0 and len(gt) > 0 and len(det) > 0
    assert all(r["score"] == 1.0 for r in gt)
    assert all(r["score"] < 1.0 for r in det)
    assert all(r["image"].endswith(".jpg") and "val2017" in r["image"] for r in det)
    # padded to the input aspect ratio 64 / 96
    s = train[0]["scale"]
    assert s[0] / s[1] == pytest.approx(64 / 96)


def test_unaugmented_targets_decode_to_the_labelled_joints(data):
    cfg = get_config(
        overrides=SMALL + ["DATASET.FLIP=False", "DATASET.SCALE_FACTOR=0", "DATASET.ROT_FACTOR=0"]
    )
    source = make_source(cfg, build_records(cfg, data, train=True), train=True)
    image, target, weight = source[0]
    rec = source.records[0]
    assert image.shape == (3, 96, 64) and image.dtype == np.float32
    assert target.shape == (17, 24, 16)
    # normalised RGB: undoing the normalisation gives bytes back
    restored = image.transpose(1, 2, 0) * IMAGENET_STD + IMAGENET_MEAN
    assert restored.min() >= -1e-5 and restored.max() <= 1 + 1e-5
    coords, _ = source.codec.decode(target[None], rec["center"][None], rec["scale"][None])
    m = weight > 0
    assert m.sum() >= 3
    px = rec["scale"][0] * 200 / 16  # image pixels per heatmap pixel
    inner = m & np.all((coords[0] > 0), axis=1)
    err = np.abs(coords[0][inner] - rec["joints"][inner])
    assert err.max() <= 0.5 * px  # 0.25 px inside the map, up to 0.5 at its border


def test_augmentation_is_seeded_per_sample_and_visit(data):
    cfg = get_config(overrides=SMALL)
    records = build_records(cfg, data, train=True)
    a = make_source(cfg, records, train=True, seed=7)
    b = make_source(cfg, records, train=True, seed=7)
    first_a, first_b = a[1], b[1]
    for x, y in zip(first_a, first_b):
        np.testing.assert_array_equal(x, y)
    second = a[1]  # next epoch: new random draw
    assert not np.array_equal(first_a[0], second[0])


def test_flip_augmentation_swaps_left_and_right(data):
    # flip only: the flipped sample's left-joint target equals the mirrored right-joint target
    cfg = get_config(overrides=SMALL + ["DATASET.SCALE_FACTOR=0", "DATASET.ROT_FACTOR=0"])
    records = build_records(cfg, data, train=True)
    source = make_source(cfg, records, train=True, seed=0)
    plain = make_source(
        get_config(
            overrides=SMALL
            + ["DATASET.FLIP=False", "DATASET.SCALE_FACTOR=0", "DATASET.ROT_FACTOR=0"]
        ),
        records,
        True,
    )
    _, base, _ = plain[0]
    seen_flip = False
    for _ in range(8):
        _, target, weight = source[0]
        if np.allclose(target, base):
            continue
        seen_flip = True
        # mirror of the crop maps input x to W_in - x (box centre mirrored about the image)
        for left, right in [(5, 6), (11, 12)]:
            if weight[left] and weight[right]:
                a, _ = topdown.decode_heatmaps(target[None, [left]])
                b, _ = topdown.decode_heatmaps(base[None, [right]])
                assert abs(a[0, 0, 0] - (16 - b[0, 0, 0])) <= 0.75
                assert abs(a[0, 0, 1] - b[0, 0, 1]) <= 0.5
    assert seen_flip


def test_shards_are_disjoint_and_cover_the_data(data):
    cfg = get_config(overrides=SMALL + ["TRAIN.SHUFFLE=False"])
    n = len(build_records(cfg, data, train=True))
    seen = [set(), set()]
    # the indices each rank's source is asked for
    for rank in range(2):
        ds, records = create_dataset(
            cfg, data, train=True, batch_size=1, rank=rank, group_size=2, num_workers=1
        )
        source = ds.children[0].source
        for _ in ds.create_tuple_iterator(num_epochs=1):
            pass
        seen[rank] = set(source.visits)
    # the sampler pads an odd count by giving one sample to both shards
    assert seen[0] and seen[1] and len(seen[0] & seen[1]) <= n % 2
    assert seen[0] | seen[1] == set(range(n))


def test_missing_annotation_file_names_the_path(tmp_path):
    cfg = get_config(overrides=SMALL)
    with pytest.raises(FileNotFoundError, match="person_keypoints_train2017.json"):
        build_records(cfg, str(tmp_path), train=True)
