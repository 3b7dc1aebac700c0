"""Two CPU workers under msrun: each reads its own shard, gradients are averaged so the weights
stay identical, and only rank 0 writes checkpoints."""

import os
import re
import shutil
import socket
import subprocess
import sys

import pytest

from posekit.synth import coco as synth

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = [
    "NETWORK.NUM_LAYERS=18",
    "MODEL.IMAGE_SIZE=[32,64]",
    "NETWORK.HEATMAP_SIZE=[8,16]",
    "NETWORK.NUM_DECONV_FILTERS=[16,16,16]",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_msrun_two_workers_shard_and_stay_in_sync(tmp_path):
    msrun = shutil.which("msrun", path=os.path.dirname(sys.executable))
    assert msrun, "msrun comes with mindspore and must sit next to the interpreter"
    data = tmp_path / "coco"
    synth.generate(str(data), train=4, val=1, seed=11)
    out = tmp_path / "run"
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    cmd = [
        msrun,
        "--worker_num=2",
        "--local_worker_num=2",
        f"--master_port={free_port()}",
        f"--log_dir={tmp_path / 'logs'}",
        "--join=True",
        "train.py",
        "--device_target",
        "CPU",
        "--run_distribute",
        "True",
        "--data_url",
        str(data),
        "--train_url",
        str(out),
        "--epochs",
        "1",
        "--batch_size",
        "2",
        "--log_interval",
        "1",
        "--set",
        *TINY,
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    logs = {r: (tmp_path / "logs" / f"worker_{r}.log").read_text() for r in range(2)}
    assert proc.returncode == 0, proc.stdout[-3000:] + logs[0][-3000:] + logs[1][-3000:]
    first_loss, digest = {}, {}
    for rank, text in logs.items():
        assert f"rank {rank}/2: shard {rank} of 2" in text
        first_loss[rank] = re.search(r"step 1/\d+ loss ([0-9.e-]+)", text).group(1)
        digest[rank] = re.search(r"final weights digest ([0-9.]+)", text).group(1)
    # same starting weights on different data give different first losses...
    assert first_loss[0] != first_loss[1]
    # ...and averaged gradients keep the weights identical
    assert digest[0] == digest[1]
    ckpts = sorted(p.name for p in out.rglob("*.ckpt"))
    assert len(ckpts) == 1 and ckpts[0].startswith("simple_baselines-1_")
