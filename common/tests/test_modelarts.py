"""posekit.modelarts: copies through moxing on ModelArts (a stand-in here), local paths else."""

import os
import sys

from posekit import modelarts
from posekit.testing import StandInMoxing


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def read(path):
    with open(path) as f:
        return f.read()


def test_job_copies_data_in_and_results_out(tmp_path, monkeypatch):
    mox = StandInMoxing(tmp_path, monkeypatch)
    write(os.path.join(mox.obs, "bucket", "data", "annot", "a.csv"), "x")
    cache = str(tmp_path / "cache")
    data_dir, out_dir = modelarts.job_dirs(True, "obs://bucket/data", "obs://bucket/out", cache)
    assert (data_dir, out_dir) == (os.path.join(cache, "data"), os.path.join(cache, "train_output"))
    assert read(os.path.join(data_dir, "annot", "a.csv")) == "x"
    write(os.path.join(out_dir, "ckpt", "model-1.ckpt"), "w")
    modelarts.upload(out_dir, "obs://bucket/out")
    assert read(os.path.join(mox.obs, "bucket", "out", "ckpt", "model-1.ckpt")) == "w"
    assert mox.calls() == [("obs://bucket/data", data_dir), (out_dir, "obs://bucket/out")]


def test_restore_brings_back_an_earlier_runs_checkpoints(tmp_path, monkeypatch):
    mox = StandInMoxing(tmp_path, monkeypatch)
    local = str(tmp_path / "local")
    modelarts.restore("obs://bucket/out", local)  # nothing there yet: nothing copied
    assert mox.calls() == [] and not os.path.exists(local)
    write(os.path.join(mox.obs, "bucket", "out", "model-5.index"), "i")
    modelarts.restore("obs://bucket/out", local)
    assert read(os.path.join(local, "model-5.index")) == "i"


def test_without_moxing_the_urls_are_local_paths(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "moxing", None)  # import fails, as off ModelArts
    assert modelarts.moxing_file() is None
    assert modelarts.job_dirs(True, "data", "out", str(tmp_path)) == ("data", "out")
    assert "moxing is not installed" in capsys.readouterr().out
    assert modelarts.job_dirs(False, "data", "out") == ("data", "out")
    assert modelarts.fetch("/data/scene", str(tmp_path / "cache")) == "/data/scene"
    assert not (tmp_path / "cache").exists()
    # upload is a folder copy when the two differ, nothing when they are one folder
    write(str(tmp_path / "run" / "sub" / "w.ckpt"), "w")
    write(str(tmp_path / "dest" / "old.txt"), "kept")
    modelarts.upload(str(tmp_path / "run"), str(tmp_path / "dest"))
    assert read(str(tmp_path / "dest" / "sub" / "w.ckpt")) == "w"
    assert read(str(tmp_path / "dest" / "old.txt")) == "kept"
    modelarts.upload(str(tmp_path / "dest"), str(tmp_path / "dest"))


def test_stand_in_is_removed_after_use(tmp_path, monkeypatch):
    with monkeypatch.context() as m:
        StandInMoxing(tmp_path, m)
        assert modelarts.on_modelarts()
    assert "moxing" not in sys.modules
