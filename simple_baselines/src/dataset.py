"""COCO person keypoints as top-down samples: one person box -> warped crop + heatmap targets.

Images are read as RGB and normalised with the ImageNet RGB mean/std. (The reference read BGR
with OpenCV and still normalised with the RGB statistics; ImageNet weights expect RGB.) The
sampling itself is posekit.topdown_samples.

Training augmentation as the paper: scale x clip(1 + 0.3 N(0,1), 0.7, 1.3), rotation
clip(40 N(0,1), -80, 80) with probability 0.6, horizontal flip with probability 0.5. Each sample's
random numbers come from (seed, index, visit count), so runs are repeatable whatever the number
of parallel workers.
"""

from __future__ import annotations

import os

import mindspore.dataset as ds
import numpy as np

from posekit import coco, topdown, topdown_samples


def make_codec(cfg):
    return topdown.TopDownCodec(
        cfg.MODEL.IMAGE_SIZE,
        cfg.NETWORK.HEATMAP_SIZE,
        sigma=cfg.NETWORK.SIGMA,
        flip_pairs=coco.FLIP_PAIRS,
    )


def build_records(cfg, root, train, use_gt_bbox=True, bbox_file=None):
    """Person boxes of a split -> list of records (image path, centre, scale, joints, score...)."""
    image_set = cfg.DATASET.TRAIN_SET if train else cfg.DATASET.TEST_SET
    ann_file = os.path.join(root, cfg.DATASET.TRAIN_JSON if train else cfg.DATASET.TEST_JSON)
    images, people = coco.read_person_keypoints(ann_file, cfg.MODEL.NUM_JOINTS)
    codec = make_codec(cfg)
    records = []

    def path_of(image_id):
        return os.path.join(root, image_set, images[image_id]["file_name"])

    if train or use_gt_bbox:
        for p in people:
            center, scale = codec.box_to_center_scale(p["bbox"])
            records.append(
                {
                    "image": path_of(p["image_id"]),
                    "image_id": p["image_id"],
                    "center": center,
                    "scale": scale,
                    "joints": p["keypoints"][:, :2].copy(),
                    "visible": (p["keypoints"][:, 2] > 0).astype(np.float32),
                    "score": 1.0,
                }
            )
        return records
    det_file = bbox_file or os.path.join(root, cfg.TEST.COCO_BBOX_FILE)
    for det in coco.read_detections(det_file, min_score=cfg.TEST.IMAGE_THRE):
        if det["image_id"] not in images:
            raise ValueError(f"{det_file}: image_id {det['image_id']} is not in {ann_file}")
        center, scale = codec.box_to_center_scale(det["bbox"])
        records.append(
            {
                "image": path_of(det["image_id"]),
                "image_id": det["image_id"],
                "center": center,
                "scale": scale,
                "joints": np.zeros((cfg.MODEL.NUM_JOINTS, 2)),
                "visible": np.zeros(cfg.MODEL.NUM_JOINTS, np.float32),
                "score": det["score"],
            }
        )
    return records


def make_source(cfg, records, train, seed=0):
    """GeneratorDataset source of the records: augmented training samples (image, target,
    target_weight) or evaluation samples (image, index)."""
    aug = cfg.DATASET
    augmentation = topdown_samples.Augmentation(
        aug.SCALE_FACTOR, aug.ROT_FACTOR, aug.ROT_PROB, aug.FLIP
    )
    return topdown_samples.TopDownSource(records, make_codec(cfg), train, augmentation, seed)


def create_dataset(
    cfg,
    root,
    train,
    batch_size,
    rank=0,
    group_size=1,
    use_gt_bbox=True,
    bbox_file=None,
    shuffle=None,
    num_workers=None,
    seed=None,
):
    """-> (batched mindspore dataset, records). Shards by rank for data-parallel training."""
    records = build_records(cfg, root, train, use_gt_bbox, bbox_file)
    if not records:
        raise ValueError(
            f"no person boxes found under {root} for the {'train' if train else 'test'} split"
        )
    seed = cfg.GENERAL.DATASET_SEED if seed is None else seed
    ds.config.set_seed(seed)  # the shuffling order (the same on every rank, so shards are disjoint)
    source = make_source(cfg, records, train, seed)
    columns = ["image", "target", "target_weight"] if train else ["image", "index"]
    workers = num_workers or (cfg.TRAIN if train else cfg.TEST).NUM_PARALLEL_WORKERS
    dataset = ds.GeneratorDataset(
        source,
        column_names=columns,
        shuffle=cfg.TRAIN.SHUFFLE if shuffle is None and train else bool(shuffle),
        num_shards=group_size if group_size > 1 else None,
        shard_id=rank if group_size > 1 else None,
        num_parallel_workers=workers,
        python_multiprocessing=False,
    )
    return dataset.batch(batch_size, drop_remainder=train), records
