import os
import subprocess
import sys

import pytest

from posekit import cli
from posekit import synth as synth_pkg


def test_list_reports_every_data_set_on_an_empty_root(tmp_path, capsys):
    cli.main(["list", "--root", str(tmp_path)])
    out = capsys.readouterr().out
    for name in ("cambridge-kingscollege", "kitti-odometry", "coco2017", "veri", "tless"):
        assert name in out
    assert "not downloaded" in out and "missing" in out
    assert os.listdir(str(tmp_path)) == []  # listing never creates anything


def test_gated_download_explains_the_terms_and_writes_nothing(tmp_path):
    with pytest.raises(SystemExit) as exc:
        cli.main(["download", "kitti-odometry", "--root", str(tmp_path)])
    message = str(exc.value)
    assert "CC BY-NC-SA" in message and "--accept-terms" in message
    assert os.listdir(str(tmp_path)) == []


def test_unknown_data_set_is_an_argument_error(capsys):
    with pytest.raises(SystemExit):
        cli.main(["download", "no-such-set"])
    assert "invalid choice" in capsys.readouterr().err


def test_synth_generators_are_discovered_from_the_package(tmp_path, monkeypatch):
    (tmp_path / "toy.py").write_text(
        '"""Toy generator for the CLI test."""\n'
        "def add_arguments(p):\n    p.add_argument('--out', required=True)\n"
        "def run(args):\n    open(args.out, 'w').write('made')\n"
    )
    monkeypatch.setattr(synth_pkg, "__path__", list(synth_pkg.__path__) + [str(tmp_path)])
    out = tmp_path / "made.txt"
    cli.main(["synth", "toy", "--out", str(out)])
    assert out.read_text() == "made"


def test_console_script_runs():
    proc = subprocess.run(
        [sys.executable, "-m", "posekit.cli", "--help"], stdout=subprocess.PIPE, check=True
    )
    assert b"synth" in proc.stdout and b"download" in proc.stdout
