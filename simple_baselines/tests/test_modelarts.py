"""ModelArts flags with a stand-in `moxing` (the real one exists only on ModelArts)."""

import json
import sys

from src import modelarts

STAND_IN = """
import json, os, shutil

def copy_parallel(src_url, dst_url):
    with open(os.environ["MOX_LOG"], "a") as f:
        f.write(json.dumps([src_url, dst_url]) + "\\n")
    shutil.copytree(src_url, dst_url, dirs_exist_ok=True)
"""


def test_prepare_and_finish_copy_through_moxing(tmp_path, monkeypatch):
    pkg = tmp_path / "fake" / "moxing"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from . import file\n")
    (pkg / "file.py").write_text(STAND_IN)
    log = tmp_path / "mox.log"
    monkeypatch.setenv("MOX_LOG", str(log))
    monkeypatch.syspath_prepend(str(tmp_path / "fake"))
    monkeypatch.delitem(sys.modules, "moxing", raising=False)

    bucket_in = tmp_path / "obs_in"
    (bucket_in / "annotations").mkdir(parents=True)
    (bucket_in / "annotations" / "a.json").write_text("{}")
    cache_in, cache_out = tmp_path / "cache_in", tmp_path / "cache_out"
    data_dir, out_dir = modelarts.prepare(
        True, str(bucket_in), "obs://bucket/out", str(cache_in), str(cache_out)
    )
    assert (data_dir, out_dir) == (str(cache_in), str(cache_out))
    assert (cache_in / "annotations" / "a.json").read_text() == "{}"

    (cache_out / "simple_baselines-1_10.ckpt").write_text("weights")
    bucket_out = tmp_path / "obs_out"
    modelarts.finish(True, str(cache_out), str(bucket_out))
    assert (bucket_out / "simple_baselines-1_10.ckpt").read_text() == "weights"
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls == [[str(bucket_in), str(cache_in)], [str(cache_out), str(bucket_out)]]


def test_without_moxing_the_urls_are_local_paths(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "moxing", None)  # import fails as off ModelArts
    assert modelarts.prepare(True, "data", "out") == ("data", "out")
    assert "moxing is not installed" in capsys.readouterr().out
    assert modelarts.prepare(False, "data", "out") == ("data", "out")
    modelarts.finish(True, "out", "out")  # nothing to copy
