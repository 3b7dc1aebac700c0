"""trans.py (MultiTaskNet inputs) and create_dataset.py (VeRi images into the PoseData tree)."""

import os
import shutil

import numpy as np
import pytest
import trans
from conftest import TINY
from PIL import Image
from src.utils import create_dataset

from posekit import veri


def _multitask_folder(root, labels):
    """A MultiTaskNet data folder (112-column labels) made from the tiny VeRi test images."""
    mt = os.path.join(str(root), "mt")
    test = labels["test"]
    for name, subset in (("query", [0, 1]), ("test", [2, 3, 4])):
        os.makedirs(os.path.join(mt, "image_" + name))
        for i in subset:
            shutil.copyfile(
                os.path.join(str(root), "veri", "images", "image_test", test.names[i]),
                os.path.join(mt, "image_" + name, test.names[i]),
            )
        veri.write_pose_table(
            os.path.join(mt, f"label_{name}.csv"),
            veri.PoseTable(
                [test.names[i] for i in subset],
                test.joints[subset].astype(float),
                test.visible[subset].astype(float),
                extra=np.tile([7, 3, 1], (len(subset), 1)),
            ),
        )
    return mt


def test_trans_writes_poses_heatmaps_and_segments(tmp_path, tiny_veri, tiny_ckpt):
    _, labels = tiny_veri
    mt = _multitask_folder(tmp_path, labels)
    args = ["--cfg", "config.yaml", "--ckpt_path", tiny_ckpt, "--data_dir", mt,
            "--device_target", "CPU", "--set", *TINY]  # fmt: skip
    trans.main(args)
    for name, count in (("query", 2), ("test", 3)):
        table = veri.read_pose_table(os.path.join(mt, f"pose_{name}.csv"))
        assert table.extra is None and len(table) == count  # 109 columns
        first = open(os.path.join(mt, f"pose_{name}.csv")).readline().split(",")
        assert len(first) == 109 and all(len(v.split(".")[1].strip()) == 3 for v in first[1:])
        stem = table.names[0][:-4]
        heat = sorted(os.listdir(os.path.join(mt, f"heatmap_{name}", stem)))
        assert heat == [f"{k:02d}.jpg" for k in range(36)]
        with Image.open(os.path.join(mt, f"heatmap_{name}", stem, "00.jpg")) as img:
            assert img.size == (16, 16)
        seg = sorted(os.listdir(os.path.join(mt, f"segment_{name}", stem)))
        assert seg == [f"{k:02d}.jpg" for k in range(13)]
    assert not os.path.exists(os.path.join(mt, "pose_train.csv"))  # no label_train.csv there
    with pytest.raises(SystemExit, match="exists; pass --overwrite"):
        trans.main(args)


def test_create_dataset_copies_listed_images_and_reports_missing(tmp_path, capsys):
    labels = {}
    pose = tmp_path / "PoseData"
    src = tmp_path / "VeRi"
    for split, names in (("train", ["a.jpg", "b.jpg"]), ("test", ["c.jpg", "d.jpg"])):
        n = len(names)
        labels[split] = veri.Labels(
            names, np.full((n, 2), 8), np.zeros((n, 36, 2)), np.zeros((n, 36))
        )
        veri.write_labels(veri.label_path(str(pose), split), labels[split])
        (src / f"image_{split}").mkdir(parents=True)
        for name in names:
            if name != "d.jpg":
                Image.new("RGB", (8, 8)).save(src / f"image_{split}" / name)
    Image.new("RGB", (8, 8)).save(src / "image_train" / "unlisted.jpg")
    status = create_dataset.main(["--veri", str(src), "--PoseData", str(pose)])
    out = capsys.readouterr().out
    assert status == 1
    assert "image_train: 2 copied, 0 already there, 0 missing" in out
    assert "image_test: 1 copied, 0 already there, 1 missing" in out and "d.jpg" in out
    assert sorted(os.listdir(pose / "images" / "image_train")) == ["a.jpg", "b.jpg"]
    Image.new("RGB", (8, 8)).save(src / "image_test" / "d.jpg")
    assert create_dataset.main(["--veri", str(src), "--PoseData", str(pose)]) == 0
    assert "image_train: 0 copied, 2 already there" in capsys.readouterr().out


def test_create_dataset_explains_missing_labels(tmp_path):
    with pytest.raises(SystemExit, match="posekit download veri"):
        create_dataset.main(["--veri", str(tmp_path), "--PoseData", str(tmp_path / "p")])
