"""MindSpore pipelines over VeRi: sharded training batches, and evaluation that keeps every image.

Evaluation batches keep the remainder (drop_remainder=False), so the last test images are
evaluated too (the reference dropped them, DESIGN.md section 6). Workers are threads: the
decoding and warping release the GIL in NumPy/Pillow, and threads avoid copying the source.
"""

from __future__ import annotations

import os

import mindspore.dataset as ds

from src.dataset.veri import load_records, make_source


def create_dataset(cfg, root, train, batch_size=None, rank=0, group_size=1, shuffle=None,
                   num_workers=None, seed=None):  # fmt: skip
    """-> (batched dataset, labels, records) for the training or the test split."""
    split = cfg.DATASET.TRAIN_SET if train else cfg.DATASET.TEST_SET
    labels, records = load_records(cfg, root, split)
    seed = cfg.GENERAL.DATASET_SEED if seed is None else seed
    source = make_source(cfg, records, train, seed)
    section = cfg.TRAIN if train else cfg.TEST
    dataset = ds.GeneratorDataset(
        source,
        column_names=["image", "target", "target_weight"] if train else ["image", "index"],
        shuffle=(cfg.TRAIN.SHUFFLE if shuffle is None else shuffle) if train else False,
        num_shards=group_size if group_size > 1 else None,
        shard_id=rank if group_size > 1 else None,
        # MindSpore refuses more workers than CPUs
        num_parallel_workers=max(1, min(num_workers or section.NUM_WORKERS, os.cpu_count() or 1)),
        python_multiprocessing=False,
    )
    dataset = dataset.batch(batch_size or section.BATCH_SIZE, drop_remainder=train)
    return dataset, labels, records
