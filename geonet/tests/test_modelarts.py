"""modelarts_entry.py: OBS copies through moxing when it imports (stand-in here), local paths
otherwise."""

import os
import sys

import modelarts_entry
import pytest
from conftest import tiny_flags

STAND_IN = """
import os
from distutils.dir_util import copy_tree

CALLS = []


class file:
    @staticmethod
    def copy_parallel(src, dst):
        CALLS.append((src, dst))
        copy_tree(src.replace("obs://", os.environ["FAKE_OBS"] + "/"),
                  dst.replace("obs://", os.environ["FAKE_OBS"] + "/"))

    @staticmethod
    def exists(path):
        return os.path.exists(path.replace("obs://", os.environ["FAKE_OBS"] + "/"))
"""


@pytest.fixture
def stand_in_moxing(tmp_path, monkeypatch):
    mod_dir = tmp_path / "mods"
    mod_dir.mkdir()
    (mod_dir / "moxing.py").write_text(STAND_IN)
    monkeypatch.syspath_prepend(str(mod_dir))
    obs = tmp_path / "obs"
    obs.mkdir()
    monkeypatch.setenv("FAKE_OBS", str(obs))
    yield obs
    sys.modules.pop("moxing", None)


@pytest.mark.slow
def test_copies_in_trains_and_copies_out(stand_in_moxing, prepared, tmp_path):
    from distutils.dir_util import copy_tree

    copy_tree(prepared, str(stand_in_moxing / "bucket" / "data"))
    local_data, local_out = tmp_path / "cache" / "data", tmp_path / "cache" / "out"
    code = modelarts_entry.main(
        ["--data_url=obs://bucket/data", "--train_url=obs://bucket/out",
         f"--local_data={local_data}", f"--local_out={local_out}", "--",
         "--mode=train_rigid", "--max_steps=1"] + tiny_flags()
    )  # fmt: skip
    assert code == 0
    import moxing

    assert moxing.CALLS[0] == ("obs://bucket/data", str(local_data))
    assert moxing.CALLS[-1] == (str(local_out), "obs://bucket/out")
    out = stand_in_moxing / "bucket" / "out"
    assert (out / "checkpoint").exists() and any(
        p.name.startswith("model-1") for p in out.iterdir()
    )


def test_without_moxing_the_urls_are_local_paths(tmp_path, capfd):
    sys.modules.pop("moxing", None)
    assert modelarts_entry.moxing_file() is None
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
