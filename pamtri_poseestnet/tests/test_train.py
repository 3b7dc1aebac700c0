"""Training end to end on a tiny data set: log lines, checkpoints, refusing to overwrite, resume,
evaluation outputs; and two msrun workers that shard the data and stay in sync."""

import json
import os
import re

import eval as evaluate_script
import pytest
import train
from conftest import ROOT, TINY, write_tiny_veri

from posekit.testing import check_data_parallel, run_msrun


@pytest.mark.slow
def test_train_resume_and_evaluate(tmp_path, tiny_veri, capsys):
    root, _ = tiny_veri
    out = tmp_path / "ckpt"
    base = ["--cfg", "config.yaml", "--data_dir", root, "--device_target", "CPU",
            "--ckpt_dir", str(out), "--log_interval", "1"]  # fmt: skip
    sets = ["--set", *TINY, "TRAIN.SAVE_CKPT_EPOCH=1"]
    train.main(base + ["--epochs", "2"] + sets)
    log = capsys.readouterr().out
    assert re.search(r"epoch: 1/2 step: 1/1, loss is [0-9.]+, lr 1.0e-03, [0-9.]+ img/s, ETA", log)
    assert sorted(os.listdir(out)) == ["PoseEstNet-1_1.ckpt", "PoseEstNet-2_1.ckpt", "config.json"]
    assert json.loads((out / "config.json").read_text())["TRAIN"]["END_EPOCH"] == 2

    with pytest.raises(SystemExit, match="already holds checkpoints"):
        train.main(base + ["--epochs", "3"] + sets)
    train.main(base + ["--epochs", "3", "--resume", "auto"] + sets)
    log = capsys.readouterr().out
    assert "resumed from" in log and "at epoch 2" in log and "epoch: 3/3 step: 1/1" in log
    assert "epoch: 1/3" not in log
    assert (out / "PoseEstNet-3_1.ckpt").is_file()

    ckpt = str(out / "PoseEstNet-3_1.ckpt")
    results = evaluate_script.main(
        ["--cfg", "config.yaml", "--data_dir", root, "--ckpt_path", ckpt,
         "--device_target", "CPU", "--output_dir", str(tmp_path / "eval"), "--set", *TINY]
    )  # fmt: skip
    log = capsys.readouterr().out
    assert "reference protocol" in log and "honest protocol" in log
    assert log.count("| Arch | Wheel | Fender | Back | Front | WindshieldBack |") == 2
    saved = json.loads((tmp_path / "eval" / "pck.json").read_text())
    assert set(saved) == {"reference", "honest"}
    assert saved["honest"]["table"]["Mean"] == pytest.approx(results[1].mean)
    assert (tmp_path / "eval" / "gallery.png").stat().st_size > 0
    with open(tmp_path / "eval" / "pred_test.csv") as f:
        assert len(f.readlines()) == 5  # every test image, none dropped


@pytest.mark.slow
def test_msrun_two_workers_shard_and_stay_in_sync(tmp_path):
    data = tmp_path / "veri"
    write_tiny_veri(data, n_train=8, n_test=2, seed=3)
    out = tmp_path / "run"
    args = [
        "train.py", "--cfg", "config.yaml", "--device_target", "CPU", "--distribute", "True",
        "--data_dir", str(data), "--ckpt_dir", str(out), "--epochs", "1", "--batch_size", "2",
        "--log_interval", "1", "--set", *TINY,
    ]  # fmt: skip
    logs = run_msrun(args, cwd=ROOT, log_dir=tmp_path / "logs")
    check_data_parallel(logs, r"step: 1/2, loss is ([0-9.e-]+)")
    for rank, text in logs.items():
        assert f"rank {rank}/2: shard {rank} of 2, 2 steps of 2" in text
    assert sorted(p.name for p in out.glob("*.ckpt")) == ["PoseEstNet-1_2.ckpt"]  # rank 0 only
