"""Cambridge split -> MindRecord (written once), and the sharded MindSpore input pipeline.

Conversion (`prepare_mindrecord`): the split file is read and checked by posekit.cambridge, each
image is resized so its shorter side is `resize_size` (the pipeline's first step, done once here
instead of at every epoch) and stored as PNG with its name and 7-number pose. Only one process
writes: the files go to a temporary folder and are moved into place, then a JSON marker naming
the source file's SHA-256 is written last. Every other rank waits for that marker (it never
writes), so ranks cannot race or read a half-written file. A marker from a different source file
is an error, never silently overwritten.

Reading (`create_posenet_dataset`): each rank reads its own shard (num_shards, shard_id), unlike
the reference port whose ranks all read shard 0. Training: random crop, test: centre crop, both
`image_size`; pixels scaled to [-1, 1] (torchvision GoogLeNet's input range, so ImageNet weights
apply unchanged); CHW.
"""

import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
import time

import mindspore.dataset as ds
import mindspore.dataset.vision as vision
import numpy as np
from mindspore.mindrecord import FileWriter
from PIL import Image

from posekit import cambridge

LOG = logging.getLogger("posenet")
SCHEMA = {
    "name": {"type": "string"},
    "image": {"type": "bytes"},
    "pose": {"type": "float32", "shape": [7]},
}
MARKER_VERSION = 1


def resize_shorter(img, size):
    """PIL image with its shorter side scaled to `size` (bilinear), aspect ratio kept."""
    w, h = img.size
    if min(w, h) == size:
        return img
    scale = size / min(w, h)
    return img.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.BILINEAR)


def center_crop(arr, size):
    h, w = arr.shape[:2]
    if h < size or w < size:
        raise ValueError(f"image {w}x{h} is smaller than the crop {size}x{size}")
    top, left = (h - size) // 2, (w - size) // 2
    return arr[top : top + size, left : left + size]


def preprocess_image(path, resize_size, image_size):
    """One image file -> (1, 3, S, S) float32 network input, exactly as at evaluation time."""
    with Image.open(path) as img:
        arr = np.asarray(resize_shorter(img.convert("RGB"), resize_size))
    arr = center_crop(arr, image_size).astype(np.float32) / 127.5 - 1.0
    return arr.transpose(2, 0, 1)[None]


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def mindrecord_path(mindrecord_dir, name, split):
    return os.path.join(mindrecord_dir, f"{name}_posenet_{split}.mindrecord")


def _marker_path(record):
    return record + ".json"


def _expected_marker(dataset_path, split, resize_size):
    txt = cambridge.split_path(dataset_path, split)
    return {
        "version": MARKER_VERSION,
        "source": os.path.abspath(txt),
        "sha256": _sha256(txt),
        "resize_size": int(resize_size),
    }


def _check_marker(record, expected):
    with open(_marker_path(record)) as f:
        marker = json.load(f)
    for key in ("sha256", "resize_size", "version"):
        if marker.get(key) != expected[key]:
            raise RuntimeError(
                f"{record} was converted from {marker.get('source')} (sha256 "
                f"{str(marker.get('sha256'))[:12]}, resize {marker.get('resize_size')}), which "
                f"differs from {expected['source']} (sha256 {expected['sha256'][:12]}, resize "
                f"{expected['resize_size']}) in {key}; delete {record}* or use another "
                "--mindrecord_dir"
            )
    return marker


def write_mindrecord(dataset_path, split, record, resize_size):
    """Convert one split; the caller guarantees it is the only writer."""
    data = cambridge.load_split(dataset_path, split)
    out_dir = os.path.dirname(os.path.abspath(record))
    os.makedirs(out_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-mindrecord-", dir=out_dir)
    try:
        tmp_record = os.path.join(tmp, os.path.basename(record))
        writer = FileWriter(tmp_record, shard_num=1, overwrite=False)
        writer.add_schema(SCHEMA, "posenet cambridge " + split)
        start = time.time()
        rows = []
        for i, (name, pos, quat) in enumerate(zip(data.names, data.positions, data.quaternions)):
            with Image.open(os.path.join(dataset_path, name)) as img:
                small = resize_shorter(img.convert("RGB"), resize_size)
            buf = io.BytesIO()
            small.save(buf, format="PNG", compress_level=1)
            pose = np.concatenate([pos, quat]).astype(np.float32)
            rows.append({"name": name, "image": buf.getvalue(), "pose": pose})
            if len(rows) == 64 or i + 1 == len(data):
                writer.write_raw_data(rows)
                rows = []
                done = i + 1
                rate = done / max(time.time() - start, 1e-6)
                LOG.info(
                    "mindrecord %s: %d/%d images, %.1f images/s, ETA %.0f s",
                    split,
                    done,
                    len(data),
                    rate,
                    (len(data) - done) / rate,
                )
        writer.commit()
        for suffix in ("", ".db"):
            os.replace(tmp_record + suffix, record + suffix)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return len(data)


def prepare_mindrecord(
    dataset_path, split, mindrecord_dir, name, resize_size, rank=0, timeout=3600.0, poll=2.0
):
    """Return the MindRecord file of `split`, converting it once (rank 0) or waiting for it."""
    record = mindrecord_path(mindrecord_dir, name, split)
    marker = _marker_path(record)
    if rank == 0:
        expected = _expected_marker(dataset_path, split, resize_size)
        if os.path.exists(marker):
            _check_marker(record, expected)
            LOG.info("using existing %s", record)
            return record
        for path in (record, record + ".db"):
            if os.path.exists(path):
                raise RuntimeError(
                    f"{path} exists without its marker {marker} (an interrupted or foreign "
                    "conversion); delete it or use another --mindrecord_dir"
                )
        LOG.info("converting %s split of %s into %s", split, dataset_path, record)
        count = write_mindrecord(dataset_path, split, record, resize_size)
        expected["count"] = count
        tmp = marker + ".part"
        with open(tmp, "w") as f:
            json.dump(expected, f, indent=1)
        os.replace(tmp, marker)
        return record
    start = time.time()
    last_log = start
    while not os.path.exists(marker):
        now = time.time()
        if now - start > timeout:
            raise TimeoutError(f"rank {rank}: {marker} did not appear within {timeout:.0f} s")
        if now - last_log > 30:
            LOG.info("rank %d: waiting for rank 0 to write %s", rank, record)
            last_log = now
        time.sleep(poll)
    return record


def create_posenet_dataset(
    record,
    batch_size,
    image_size,
    is_training=True,
    rank_size=1,
    rank_id=0,
    num_workers=2,
    seed=1,
):
    """Batches of (image float32 (B, 3, S, S), pose float32 (B, 7)); names too at test time."""
    ds.config.set_seed(seed)
    columns = ["image", "pose"] if is_training else ["image", "pose", "name"]
    data = ds.MindDataset(
        record,
        columns_list=columns,
        num_parallel_workers=num_workers,
        shuffle=is_training,
        num_shards=rank_size if rank_size > 1 else None,
        shard_id=rank_id if rank_size > 1 else None,
    )
    crop = vision.RandomCrop(image_size) if is_training else vision.CenterCrop(image_size)
    ops = [
        vision.Decode(),
        crop,
        vision.Normalize(mean=[127.5] * 3, std=[127.5] * 3),
        vision.HWC2CHW(),
    ]
    data = data.map(operations=ops, input_columns=["image"], num_parallel_workers=num_workers)
    return data.batch(batch_size, drop_remainder=is_training)


def shard_fingerprint(record, rank_size, rank_id, seed=1):
    """(count, sha256 prefix) of the poses a rank reads in one epoch, without decoding images.

    Logged by every rank of a distributed run, so the logs show that ranks read disjoint data.
    """
    ds.config.set_seed(seed)
    data = ds.MindDataset(
        record, columns_list=["pose"], shuffle=True, num_shards=rank_size, shard_id=rank_id
    )
    poses = sorted(
        tuple(np.round(p, 5).tolist()) for (p,) in data.create_tuple_iterator(output_numpy=True)
    )
    digest = hashlib.sha256(np.asarray(poses, np.float64).tobytes()).hexdigest()[:16]
    return len(poses), digest
