"""Two CPU workers under msrun: each reads its own shard, gradients are averaged so the weights
stay identical, and only rank 0 writes checkpoints."""

import pytest
from conftest import ROOT, TINY

from posekit.synth import coco as synth
from posekit.testing import check_data_parallel, run_msrun


@pytest.mark.slow
def test_msrun_two_workers_shard_and_stay_in_sync(tmp_path):
    data = tmp_path / "coco"
    synth.generate(str(data), train=4, val=1, seed=11)
    out = tmp_path / "run"
    args = [
        "train.py", "--device_target", "CPU", "--run_distribute", "True", "--data_url", str(data),
        "--train_url", str(out), "--epochs", "1", "--batch_size", "2", "--log_interval", "1",
        "--set", *TINY,
    ]  # fmt: skip
    logs = run_msrun(args, cwd=ROOT, log_dir=tmp_path / "logs", timeout=600)
    check_data_parallel(logs, r"step 1/\d+ loss ([0-9.e-]+)")
    ckpts = sorted(p.name for p in out.rglob("*.ckpt"))
    assert len(ckpts) == 1 and ckpts[0].startswith("simple_baselines-1_")
