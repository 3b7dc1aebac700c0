"""ModelArts flags with a stand-in `moxing` (the real one exists only on ModelArts)."""

import os
import textwrap

import pytest
from conftest import TRAIN_ARGS, run_py
from src import modelarts

STAND_IN = '''
"""Stand-in for ModelArts' moxing: copies local folders and records each call."""
import os
import shutil


def copy_parallel(src_url, dst_url):
    with open(os.environ["MOXING_LOG"], "a") as f:
        f.write(src_url + " -> " + dst_url + "\\n")
    shutil.copytree(src_url, dst_url, dirs_exist_ok=True)
'''


@pytest.mark.slow
def test_train_copies_data_in_and_results_out_with_moxing(scene, tmp_path):
    pkg = tmp_path / "stand_in" / "moxing"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from . import file\n")
    (pkg / "file.py").write_text(textwrap.dedent(STAND_IN))
    log = tmp_path / "moxing.log"
    obs_out = tmp_path / "obs_out"
    cache = tmp_path / "cache"
    run_py(
        ["train.py"]
        + TRAIN_ARGS
        + [
            "--enable_modelarts",
            "True",
            "--data_url",
            scene,
            "--train_url",
            str(obs_out),
            "--modelarts_cache",
            str(cache),
            "--max_steps",
            "2",
        ],
        env={"PYTHONPATH": str(tmp_path / "stand_in"), "MOXING_LOG": str(log)},
    )
    calls = log.read_text().splitlines()
    assert calls == [
        f"{scene} -> {cache / 'dataset_rank0'}",
        f"{cache / 'train_output'} -> {obs_out}",
    ]
    assert os.path.isfile(obs_out / "checkpoint" / "train_posenet_Tiny-2.ckpt")
    # The MindRecord was written on the job's local disk, not next to the data.
    assert os.path.isfile(cache / "mindrecord_rank0" / "Tiny_posenet_train.mindrecord")


def test_without_moxing_urls_are_local_paths(tmp_path, monkeypatch):
    monkeypatch.setattr(modelarts, "moxing_file", lambda: None)
    assert modelarts.fetch("/data/scene", str(tmp_path / "cache")) == "/data/scene"
    assert modelarts.output_dir("/out", str(tmp_path / "cache")) == "/out"
    modelarts.upload(str(tmp_path / "cache"), "/out")  # nothing to copy
    assert not (tmp_path / "cache").exists()
