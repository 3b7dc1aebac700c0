"""trans.py (MultiTaskNet inputs), create_dataset.py (VeRi images into the PoseData tree) and the
ModelArts flags with a stand-in moxing."""

import json
import os
import shutil
import sys

import numpy as np
import pytest
import trans
from conftest import TINY
from PIL import Image
from src.utils import create_dataset, modelarts

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


STAND_IN = """
import json, os, shutil

def copy_parallel(src_url, dst_url):
    with open(os.environ["MOX_LOG"], "a") as f:
        f.write(json.dumps([src_url, dst_url]) + "\\n")
    shutil.copytree(src_url, dst_url, dirs_exist_ok=True)
"""


def test_modelarts_copies_through_moxing(tmp_path, monkeypatch):
    pkg = tmp_path / "fake" / "moxing"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from . import file\n")
    (pkg / "file.py").write_text(STAND_IN)
    log = tmp_path / "mox.log"
    monkeypatch.setenv("MOX_LOG", str(log))
    monkeypatch.syspath_prepend(str(tmp_path / "fake"))
    monkeypatch.delitem(sys.modules, "moxing", raising=False)
    bucket = tmp_path / "obs_in"
    (bucket / "annot").mkdir(parents=True)
    (bucket / "annot" / "label_train.csv").write_text("x")
    cache_in, cache_out = tmp_path / "cache_in", tmp_path / "cache_out"
    data_dir, out_dir = modelarts.prepare(True, str(bucket), "obs://b/out", str(cache_in),
                                          str(cache_out))  # fmt: skip
    assert (data_dir, out_dir) == (str(cache_in), str(cache_out))
    assert (cache_in / "annot" / "label_train.csv").read_text() == "x"
    (cache_out / "PoseEstNet-1_2.ckpt").write_text("w")
    modelarts.finish(True, str(cache_out), str(tmp_path / "obs_out"))
    assert (tmp_path / "obs_out" / "PoseEstNet-1_2.ckpt").read_text() == "w"
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls == [[str(bucket), str(cache_in)], [str(cache_out), str(tmp_path / "obs_out")]]


def test_without_moxing_the_urls_are_local_paths(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "moxing", None)
    assert modelarts.prepare(True, "data", "out") == ("data", "out")
    assert "moxing is not installed" in capsys.readouterr().out
    assert modelarts.prepare(False, "data", "out") == ("data", "out")
