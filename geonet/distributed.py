"""Data-parallel training for GeoNet: one interface over Horovod (CPU/GPU, Gloo) and the Ascend
adapter's collective ops (npu_bridge + HCCL), and a no-op for a single process.

Every worker reads its own shard of the training list (data_loader.DataLoader), averages
gradients through the wrapped optimizer, and starts from rank 0's weights (broadcast after
initialisation or restore). Only rank 0 writes checkpoints, summaries and logs.
"""

import os

import tensorflow as tf


class Single:
    name = "none"
    rank = 0
    size = 1

    def wrap_optimizer(self, optimizer):
        return optimizer

    def broadcast_op(self):
        return tf.no_op()

    @property
    def is_chief(self):
        return self.rank == 0


class Horovod(Single):
    """`horovodrun --gloo -np N python geonet_main.py --distributed=horovod ...`."""

    name = "horovod"

    def __init__(self):
        try:
            import horovod.tensorflow as hvd
        except ImportError as exc:
            raise ImportError(
                "--distributed=horovod needs Horovod built with TensorFlow and Gloo: "
                "HOROVOD_WITH_TENSORFLOW=1 HOROVOD_WITH_GLOO=1 HOROVOD_WITHOUT_MPI=1 "
                "pip install horovod==0.28.1 (after tensorflow is installed)"
            ) from exc
        self.hvd = hvd
        hvd.init()
        self.rank = hvd.rank()
        self.size = hvd.size()

    def wrap_optimizer(self, optimizer):
        return self.hvd.DistributedOptimizer(optimizer)

    def broadcast_op(self):
        return self.hvd.broadcast_global_variables(0)


class Npu(Single):
    """Ascend: the rank table's RANK_ID / RANK_SIZE, npu_bridge's distributed optimizer, HCCL."""

    name = "npu"

    def __init__(self):
        try:
            from npu_bridge.estimator.npu.npu_optimizer import NPUDistributedOptimizer
            from npu_bridge.hccl import hccl_ops
        except ImportError as exc:
            raise ImportError(
                "--distributed=npu needs the Ascend TensorFlow adapter (npu_bridge)"
            ) from exc
        for var in ("RANK_ID", "RANK_SIZE"):
            if var not in os.environ:
                raise ValueError(f"--distributed=npu: environment variable {var} is not set")
        self.optimizer_cls = NPUDistributedOptimizer
        self.hccl_ops = hccl_ops
        self.rank = int(os.environ["RANK_ID"])
        self.size = int(os.environ["RANK_SIZE"])

    def wrap_optimizer(self, optimizer):
        return self.optimizer_cls(optimizer)

    def broadcast_op(self):
        ops = []
        for var in tf.global_variables():
            if var.dtype.base_dtype.is_floating:
                value = self.hccl_ops.broadcast(tensor=[var], root_rank=0)[0]
                ops.append(tf.assign(var, value))
        return tf.group(ops)


def make(name):
    if name == "none":
        return Single()
    if name == "horovod":
        return Horovod()
    if name == "npu":
        return Npu()
    raise ValueError(f"unknown distribution {name!r}")
