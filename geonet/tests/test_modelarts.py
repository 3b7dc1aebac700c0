"""modelarts_entry.py: OBS copies through moxing when it imports (stand-in here), local paths
otherwise."""

import os

import modelarts_entry
import pytest
from conftest import tiny_flags

from posekit import modelarts
from posekit.testing import StandInMoxing


@pytest.fixture
def stand_in_moxing(tmp_path, monkeypatch):
    return StandInMoxing(tmp_path, monkeypatch)


@pytest.mark.slow
def test_copies_in_trains_and_copies_out(stand_in_moxing, prepared, tmp_path):
    modelarts.copy_tree(prepared, os.path.join(stand_in_moxing.obs, "bucket", "data"))
    local_data, local_out = tmp_path / "cache" / "data", tmp_path / "cache" / "out"
    code = modelarts_entry.main(
        ["--data_url=obs://bucket/data", "--train_url=obs://bucket/out",
         f"--local_data={local_data}", f"--local_out={local_out}", "--",
         "--mode=train_rigid", "--max_steps=1"] + tiny_flags()
    )  # fmt: skip
    assert code == 0
    calls = stand_in_moxing.calls()
    assert calls[0] == ("obs://bucket/data", str(local_data))
    assert calls[-1] == (str(local_out), "obs://bucket/out")
    out = os.path.join(stand_in_moxing.obs, "bucket", "out")
    names = os.listdir(out)
    assert "checkpoint" in names and any(n.startswith("model-1") for n in names)


def test_without_moxing_the_urls_are_local_paths(tmp_path, capfd):
    assert modelarts.moxing_file() is None
    out = tmp_path / "out"
    code = modelarts_entry.main(
        [f"--data_url={tmp_path / 'missing'}", f"--train_url={out}", "--", "--mode=train_rigid"]
    )
    printed = capfd.readouterr()
    assert code != 0  # no prepared data there: geonet_main.py stops with a clear message
    assert f"--dataset_dir={tmp_path / 'missing'}" in printed.out
    assert f"--checkpoint_dir={out}" in printed.out
    assert "train.txt not found" in printed.err
    assert os.path.isdir(out)
