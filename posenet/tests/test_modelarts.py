"""ModelArts flags with a stand-in `moxing` (the real one exists only on ModelArts)."""

import os
import shutil

import pytest
from conftest import TRAIN_ARGS, run_py

from posekit.testing import StandInMoxing


@pytest.mark.slow
def test_train_copies_data_in_and_results_out_with_moxing(scene, tmp_path, monkeypatch):
    mox = StandInMoxing(tmp_path, monkeypatch)
    shutil.copytree(scene, os.path.join(mox.obs, "bucket", "scene"))
    cache = tmp_path / "cache"
    run_py(
        ["train.py"]
        + TRAIN_ARGS
        + ["--enable_modelarts", "True", "--data_url", "obs://bucket/scene"]
        + ["--train_url", "obs://bucket/out", "--modelarts_cache", str(cache), "--max_steps", "2"],
        env=mox.env,
    )
    assert mox.calls() == [
        ("obs://bucket/scene", str(cache / "dataset_rank0")),
        (str(cache / "train_output"), "obs://bucket/out"),
    ]
    out = os.path.join(mox.obs, "bucket", "out")
    assert os.path.isfile(os.path.join(out, "checkpoint", "train_posenet_Tiny-2.ckpt"))
    # The MindRecord was written on the job's local disk, not next to the data.
    assert os.path.isfile(cache / "mindrecord_rank0" / "Tiny_posenet_train.mindrecord")
