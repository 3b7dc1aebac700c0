import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def run_py(args, cwd=ROOT, env=None, timeout=600):
    """Run a posenet script with this interpreter; returns the completed process (checked)."""
    full_env = dict(os.environ)
    full_env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + full_env.get("PATH", "")
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable] + list(args),
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"{args} exited {proc.returncode}\nstdout:\n{proc.stdout[-4000:]}\n"
            f"stderr:\n{proc.stderr[-4000:]}"
        )
    return proc


@pytest.fixture(scope="session")
def scene(tmp_path_factory):
    """A small rendered scene in the Cambridge layout: 3 train sequences, 1 test, 72x64."""
    from posekit.synth import cambridge as synth

    root = str(tmp_path_factory.mktemp("scene") / "Tiny")
    synth.generate(root, train_seqs=3, test_seqs=1, frames=8, width=72, height=64, seed=3)
    return root


TRAIN_ARGS = [
    "--device_target",
    "CPU",
    "--dataset",
    "Tiny",
    "--image_size",
    "64",
    "--resize_size",
    "64",
    "--batch_size",
    "4",
    "--pre_trained",
    "False",
    "--log_interval",
    "1",
]


@pytest.fixture(scope="session")
def trained(scene, tmp_path_factory):
    """3 steps of training (checkpoints every 2 steps, keep 1): (workdir, checkpoint, stdout)."""
    work = tmp_path_factory.mktemp("train")
    proc = run_py(
        ["train.py"]
        + TRAIN_ARGS
        + [
            "--dataset_path",
            scene,
            "--mindrecord_dir",
            str(work / "mindrecord"),
            "--checkpoint_dir",
            str(work / "ckpt"),
            "--max_steps",
            "3",
            "--save_checkpoint_steps",
            "2",
            "--keep_checkpoint_max",
            "1",
            "--grad_clip",
            "5",
        ]
    )
    return work, str(work / "ckpt" / "train_posenet_Tiny-3.ckpt"), proc.stdout
