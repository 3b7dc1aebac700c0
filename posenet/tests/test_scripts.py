import os
import subprocess

import pytest
from conftest import ROOT

SCRIPTS = {
    "run_standalone_train.sh": "[DATASET_NAME] [DEVICE_ID]",
    "run_standalone_train_gpu.sh": "[DATASET_NAME] [DEVICE_ID]",
    "run_standalone_train_cpu.sh": "[DATASET_NAME] [DEVICE_ID]",
    "run_distribute_train.sh": "[DATASET_NAME] [RANK_SIZE]",
    "run_distribute_train_gpu.sh": "[DATASET_NAME] [RANK_SIZE]",
    "run_distribute_train_cpu.sh": "[DATASET_NAME] [RANK_SIZE]",
    "run_eval.sh": "[DEVICE_ID] [DATASET_NAME] [CKPT_PATH]",
    "run_eval_gpu.sh": "[DEVICE_ID] [DATASET_NAME] [CKPT_PATH]",
    "run_eval_cpu.sh": "[DEVICE_ID] [DATASET_NAME] [CKPT_PATH]",
    "run_demo.sh": "OUT_DIR",
    "run_bench.sh": "OUT_JSON",
}


def run(script, *args):
    return subprocess.run(
        ["bash", os.path.join(ROOT, "scripts", script)] + list(args),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_usage_on_missing_arguments(script):
    proc = run(script)
    assert proc.returncode != 0
    assert "Usage: bash " + script + " " + SCRIPTS[script] in proc.stderr


@pytest.mark.parametrize(
    "script, args, message",
    [
        ("run_standalone_train_cpu.sh", ["KingsCollege", "x"], "DEVICE_ID must be an integer"),
        ("run_distribute_train_cpu.sh", ["KingsCollege", "0"], "RANK_SIZE must be a positive"),
        ("run_eval_cpu.sh", ["0", "KingsCollege", "/no/such.ckpt"], "not found"),
    ],
)
def test_bad_arguments_are_named(script, args, message):
    proc = run(script, *args)
    assert proc.returncode != 0 and message in proc.stderr


def test_gpu_scripts_target_gpu():
    # The reference port's GPU script launched Ascend (DESIGN.md section 6).
    for script in ("run_standalone_train_gpu.sh", "run_distribute_train_gpu.sh", "run_eval_gpu.sh"):
        text = open(os.path.join(ROOT, "scripts", script)).read()
        assert "--device_target GPU" in text and "Ascend" not in text
