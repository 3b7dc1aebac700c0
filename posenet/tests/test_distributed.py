"""2-worker data-parallel training on CPU through msrun (scripts/run_distribute_train_cpu.sh)."""

import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT

from posekit.testing import check_data_parallel, free_port

pytestmark = pytest.mark.slow


def test_two_workers_read_different_shards_and_stay_in_sync(scene, tmp_path):
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["RUN_DIR"] = str(tmp_path)
    env["MASTER_PORT"] = str(free_port())
    ckpt_dir = tmp_path / "ckpt"
    cmd = [
        "bash",
        os.path.join(ROOT, "scripts", "run_distribute_train_cpu.sh"),
        "Tiny",
        "2",
        "--dataset_path",
        scene,
        "--mindrecord_dir",
        str(tmp_path / "mindrecord"),
        "--checkpoint_dir",
        str(ckpt_dir),
        "--image_size",
        "64",
        "--resize_size",
        "64",
        "--batch_size",
        "4",
        "--max_steps",
        "4",
        "--save_checkpoint_steps",
        "1",
        "--pre_trained",
        "False",
        "--log_interval",
        "1",
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    log_dir = tmp_path / "train_parallel_Tiny"
    logs = {}
    for rank in (0, 1):
        path = log_dir / f"worker_{rank}.log"
        logs[rank] = path.read_text() if path.exists() else ""
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:] + logs[0][-3000:]

    # each rank's own shard, different first losses, identical final weights (all-reduced)
    check_data_parallel(
        logs, r"step: 1/2, loss is ([0-9.e-]+)", shard="rank {rank}/{n} reads shard {rank}: "
    )
    shards = {}
    for rank, text in logs.items():
        m = re.search(rf"rank {rank}/2 reads shard {rank}: (\d+) images, fingerprint (\w+)", text)
        assert m, text[-3000:]
        shards[rank] = (int(m.group(1)), m.group(2))
        # max_steps counts all ranks together: 4 steps / 2 ranks = 2 steps each.
        assert "step: 2/2" in text
    assert shards[0][0] == shards[1][0] == 12
    assert shards[0][1] != shards[1][1]  # different data on each rank
    # Rank 0 alone converted the data and wrote the checkpoints, once per save step.
    assert "converting train split" in logs[0] and "converting" not in logs[1]
    assert "saved" in logs[0] and "saved" not in logs[1]
    assert sorted(os.listdir(ckpt_dir)) == [
        "train_posenet_Tiny-1.ckpt",
        "train_posenet_Tiny-2.ckpt",
    ]
