import os
import sys

import numpy as np
import pytest
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.dirname(os.path.abspath(__file__))
for path in (ROOT, TESTS):
    if path not in sys.path:
        sys.path.insert(0, path)

from posekit import veri  # noqa: E402


def hrnet(stem, stage1, widths, blocks, modules):
    """--set overrides for an HRNet of the same design: stem width, stage-1 (channels, blocks),
    branch widths, blocks per branch for stages 2-4, modules for stages 2-4."""
    sets = [f"MODEL.EXTRA.STEM_INPLANES={stem}"]
    sets += [f"MODEL.EXTRA.STAGE1.NUM_CHANNELS=[{stage1[0]}]"]
    sets += [f"MODEL.EXTRA.STAGE1.NUM_BLOCKS=[{stage1[1]}]"]
    for n, stage in enumerate(("STAGE2", "STAGE3", "STAGE4")):
        branches = n + 2
        sets.append(f"MODEL.EXTRA.{stage}.NUM_CHANNELS={list(widths[:branches])}")
        sets.append(f"MODEL.EXTRA.{stage}.NUM_BLOCKS={list(blocks[n][:branches])}")
        sets.append(f"MODEL.EXTRA.{stage}.NUM_MODULES={modules[n]}")
    return sets


# a tiny HRNet (same structure, 4 branches) at 64 x 64 so graphs compile and run fast
TINY = hrnet(8, (4, 1), (4, 8, 16, 32), ([1] * 2, [1] * 3, [1] * 4), (1, 1, 1)) + [
    "MODEL.IMAGE_SIZE=[64,64]",
    "MODEL.HEATMAP_SIZE=[16,16]",
    "TRAIN.BATCH_SIZE=4",
    "TRAIN.NUM_WORKERS=1",
    "TEST.BATCH_SIZE=4",
    "TEST.NUM_WORKERS=1",
]


def write_tiny_veri(root, n_train=6, n_test=5, seed=0):
    """A VeRi data folder of random images with random (integer) keypoints; returns the labels."""
    rng = np.random.default_rng(seed)
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        folder = veri.image_dir(str(root), split)
        os.makedirs(folder, exist_ok=True)
        names, sizes, joints, vis = [], [], [], []
        for i in range(n):
            w, h = int(rng.integers(40, 90)), int(rng.integers(30, 70))
            name = f"{i + (0 if split == 'train' else 100):04d}_c001_{i:08d}_0.jpg"
            pixels = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(os.path.join(folder, name))
            names.append(name)
            sizes.append((w, h))
            joints.append(np.stack([rng.integers(0, w, 36), rng.integers(0, h, 36)], 1))
            vis.append(rng.integers(0, 2, 36))
        labels = veri.Labels(names, np.array(sizes), np.array(joints), np.array(vis))
        veri.write_labels(veri.label_path(str(root), split), labels)
        out[split] = labels
    return out


@pytest.fixture
def tiny_veri(tmp_path):
    root = tmp_path / "veri"
    labels = write_tiny_veri(root)
    return str(root), labels


@pytest.fixture
def tiny_cfg():
    from src.config import load_config

    return load_config(os.path.join(ROOT, "config.yaml"), TINY)


@pytest.fixture
def tiny_ckpt(tmp_path, tiny_cfg):
    """A checkpoint of a randomly initialised tiny network (plain parameter names)."""
    import mindspore as ms
    from src.model.HRNet import get_pose_net

    ms.set_seed(0)
    net = get_pose_net(tiny_cfg)
    path = str(tmp_path / "tiny.ckpt")
    ms.save_checkpoint(net, path)
    return path
