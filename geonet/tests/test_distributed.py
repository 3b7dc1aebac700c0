"""Two Horovod (Gloo) workers on CPU train on different shards and end with identical weights;
the NPU path wires npu_bridge's distributed optimizer and HCCL broadcast (stand-in modules)."""

import os
import subprocess
import sys

import distributed
import numpy as np
import pytest
import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.mark.slow
def test_two_horovod_workers_end_with_identical_weights(prepared, tmp_path):
    # Probe in a child: loading Horovod's op library into this process after OSMesa (the
    # rendered fixtures) crashes, and the workers are separate processes anyway.
    probe = subprocess.run(
        [sys.executable, "-c", "import horovod.tensorflow"], stderr=subprocess.PIPE
    )
    if probe.returncode != 0:
        pytest.skip("Horovod with TensorFlow support is not installed (see README)")
    horovodrun = os.path.join(os.path.dirname(sys.executable), "horovodrun")
    cmd = [horovodrun, "--gloo", "-np", "2", "-H", "localhost:2", sys.executable,
           os.path.join(HERE, "hvd_worker.py"), prepared, str(tmp_path)]  # fmt: skip
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    assert res.returncode == 0, res.stdout.decode(errors="replace")[-4000:]
    r0 = np.load(tmp_path / "rank0.npz")
    r1 = np.load(tmp_path / "rank1.npz")
    assert int(r0["size"]) == int(r1["size"]) == 2
    assert not np.array_equal(r0["before"], r1["before"])  # different initialisations...
    assert not set(r0["digests"]) & set(r1["digests"])  # ...and different data
    names = [k for k in r0.files if k.startswith("w")]
    for k in names:
        np.testing.assert_array_equal(r0[k], r1[k])  # identical weights after training
    assert not np.array_equal(r0["w0"], r0["before"])


@pytest.fixture
def stand_in_npu(tmp_path, monkeypatch):
    root = tmp_path / "npu_bridge"
    (root / "estimator" / "npu").mkdir(parents=True)
    (root / "hccl").mkdir()
    for d in (root, root / "estimator", root / "estimator" / "npu", root / "hccl"):
        (d / "__init__.py").write_text("")
    (root / "estimator" / "npu" / "npu_optimizer.py").write_text(
        "class NPUDistributedOptimizer:\n"
        "    def __init__(self, optimizer):\n"
        "        self.wrapped = optimizer\n"
    )
    (root / "hccl" / "hccl_ops.py").write_text(
        "CALLS = []\n"
        "def broadcast(tensor, root_rank):\n"
        "    CALLS.append(root_rank)\n"
        "    return tensor\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("RANK_ID", "1")
    monkeypatch.setenv("RANK_SIZE", "8")
    yield
    for name in list(sys.modules):
        if name.startswith("npu_bridge"):
            del sys.modules[name]


def test_npu_distribution_with_stand_in_adapter(stand_in_npu):
    dist = distributed.make("npu")
    assert (dist.rank, dist.size, dist.is_chief) == (1, 8, False)
    opt = tf.compat.v1.train.AdamOptimizer(0.1)
    assert dist.wrap_optimizer(opt).wrapped is opt
    with tf.Graph().as_default():
        tf.Variable(1.0)
        tf.Variable(2, dtype=tf.int32)
        op = dist.broadcast_op()
        from npu_bridge.hccl import hccl_ops

        assert hccl_ops.CALLS == [0]  # float variables only, from rank 0
        assert op.type == "NoOp"


def test_npu_distribution_needs_rank_environment(stand_in_npu, monkeypatch):
    monkeypatch.delenv("RANK_SIZE")
    with pytest.raises(ValueError, match="RANK_SIZE"):
        distributed.make("npu")


def test_single_process_is_the_default():
    dist = distributed.make("none")
    assert (dist.rank, dist.size, dist.is_chief) == (0, 1, True)
