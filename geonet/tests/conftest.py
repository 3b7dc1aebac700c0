import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")

# A network small enough to train a few steps in seconds on a CPU (same code as the paper's).
TINY = dict(
    img_height=32, img_width=96, seq_length=3, batch_size=2, dispnet_encoder="vgg",
    net_width=0.125, num_threads=2,
)  # fmt: skip


def tiny_flags(**overrides):
    values = dict(TINY, **overrides)
    return [f"--{k}={v}" for k, v in values.items()]


def run_py(args, cwd=ROOT, timeout=600, env=None):
    """Run a Python entry point of the model folder; returns stdout, fails with its output."""
    full_env = dict(os.environ, **(env or {}))
    res = subprocess.run(
        [sys.executable] + args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        timeout=timeout, env=full_env,
    )  # fmt: skip
    out = res.stdout.decode(errors="replace")
    assert res.returncode == 0, f"{args} exited {res.returncode}:\n{out[-4000:]}"
    return out


@pytest.fixture(scope="session")
def synthetic_kitti(tmp_path_factory):
    """Rendered KITTI odometry tree (sequences 00 and 09, 14 frames at 192x64)."""
    from posekit.synth import kitti as synth

    root = str(tmp_path_factory.mktemp("kitti"))
    synth.generate(root, [0, 9], frames=14, width=192, height=64, seed=3)
    return root


@pytest.fixture(scope="session")
def prepared(synthetic_kitti, tmp_path_factory):
    """GeoNet prepared format (seq_length 3, 32x96) of the synthetic sequence 00."""
    out = str(tmp_path_factory.mktemp("prepared"))
    run_py(
        [
            "data/prepare_train_data.py", f"--dataset_dir={synthetic_kitti}", f"--dump_root={out}",
            "--seq_length=3", "--img_height=32", "--img_width=96", "--sequences", "0",
            "--val_fraction=0.2",
        ]
    )  # fmt: skip
    return out


@pytest.fixture(scope="session")
def trained(prepared, tmp_path_factory):
    """A 3-step train_rigid checkpoint of the tiny network."""
    ckpt = str(tmp_path_factory.mktemp("ckpt"))
    out = run_py(
        ["geonet_main.py", "--mode=train_rigid", f"--dataset_dir={prepared}",
         f"--checkpoint_dir={ckpt}", "--max_steps=3", "--log_freq=1"] + tiny_flags()
    )  # fmt: skip
    return ckpt, out
