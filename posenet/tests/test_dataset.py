import json
import os
import threading
import time

import numpy as np
import pytest
from src.dataset import (
    create_posenet_dataset,
    mindrecord_path,
    prepare_mindrecord,
    preprocess_image,
)

from posekit import cambridge


@pytest.fixture
def records(scene, tmp_path):
    out = str(tmp_path / "mr")
    train = prepare_mindrecord(scene, "train", out, "Tiny", 64)
    test = prepare_mindrecord(scene, "test", out, "Tiny", 64)
    return scene, out, train, test


def test_conversion_written_once_with_marker(records):
    scene, out, train, _ = records
    marker = json.load(open(train + ".json"))
    assert marker["count"] == 24 and marker["resize_size"] == 64
    mtime = os.path.getmtime(train)
    # A second call (any rank) reuses the files instead of rewriting them.
    assert prepare_mindrecord(scene, "train", out, "Tiny", 64) == train
    assert prepare_mindrecord(scene, "train", out, "Tiny", 64, rank=1) == train
    assert os.path.getmtime(train) == mtime
    assert not [f for f in os.listdir(out) if f.startswith(".tmp")]


def test_marker_mismatch_and_foreign_file_are_errors_not_overwrites(records, tmp_path):
    scene, out, train, _ = records
    with pytest.raises(RuntimeError, match="differs .* in resize_size"):
        prepare_mindrecord(scene, "train", out, "Tiny", 96)
    foreign = str(tmp_path / "foreign")
    os.makedirs(foreign)
    path = mindrecord_path(foreign, "Tiny", "train")
    open(path, "wb").write(b"user data")
    with pytest.raises(RuntimeError, match="exists without its marker"):
        prepare_mindrecord(scene, "train", foreign, "Tiny", 64)
    assert open(path, "rb").read() == b"user data"


def test_other_ranks_wait_for_rank0(scene, tmp_path):
    out = str(tmp_path / "mr")
    with pytest.raises(TimeoutError, match="did not appear"):
        prepare_mindrecord(scene, "train", out, "Tiny", 64, rank=1, timeout=0.3, poll=0.05)
    assert not os.path.exists(out)  # the waiting rank never writes
    result = {}
    waiter = threading.Thread(
        target=lambda: result.update(
            path=prepare_mindrecord(scene, "train", out, "Tiny", 64, rank=1, poll=0.05)
        )
    )
    waiter.start()
    time.sleep(0.2)
    assert waiter.is_alive()
    written = prepare_mindrecord(scene, "train", out, "Tiny", 64, rank=0)
    waiter.join(timeout=30)
    assert result["path"] == written


def poses_of(record, rank_size, rank_id):
    data = create_posenet_dataset(
        record, 1, 64, is_training=True, rank_size=rank_size, rank_id=rank_id
    )
    return {tuple(np.round(p[0], 5)) for _, p in data.create_tuple_iterator(output_numpy=True)}


def test_each_rank_reads_its_own_shard(records):
    scene, _, train, _ = records
    shard0, shard1 = poses_of(train, 2, 0), poses_of(train, 2, 1)
    assert len(shard0) == len(shard1) == 12
    assert not shard0 & shard1
    split = cambridge.load_split(scene, "train")
    everything = {
        tuple(np.round(np.concatenate([p, q]).astype(np.float32), 5))
        for p, q in zip(split.positions, split.quaternions)
    }
    assert shard0 | shard1 == everything


def test_train_batches_and_test_pipeline_matches_preprocess(records):
    scene, _, train, test = records
    image, pose = next(
        create_posenet_dataset(train, 4, 64, is_training=True).create_tuple_iterator(
            output_numpy=True
        )
    )
    assert image.shape == (4, 3, 64, 64) and image.dtype == np.float32
    assert -1.0 <= image.min() and image.max() <= 1.0 and pose.shape == (4, 7)
    names, count = [], 0
    data = create_posenet_dataset(test, 5, 64, is_training=False)
    for image, _pose, name in data.create_tuple_iterator(output_numpy=True):
        for img, n in zip(image, name):
            ref = preprocess_image(os.path.join(scene, str(n)), 64, 64)[0]
            np.testing.assert_allclose(img, ref, atol=1e-6)
        names.extend(str(n) for n in name)
        count += len(name)
    # Evaluation keeps every test image (no dropped remainder).
    assert names == cambridge.load_split(scene, "test").names and count == 8
