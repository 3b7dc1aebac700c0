"""The one TensorFlow 1.15 session-config builder shared by the TF models (GeoNet, Pix2Pose).

On Ascend, TF 1.15 runs through the `npu_bridge` adapter: importing `npu_bridge.npu_init`
registers the NPU graph optimizer, and the session config must name a custom optimizer
`NpuOptimizer` (here with `precision_mode` = `allow_mix_precision`, executing on the device:
`use_off_line`) and switch the grappler `remapping` and `memory_optimization` rewrites OFF
(DESIGN.md section 2). TensorFlow rejects an unknown custom optimizer, so that config is built only
when `npu_bridge` imports; otherwise a plain ConfigProto serves CPU and GPU.

TensorFlow is imported inside the functions so that `import posekit` stays framework-free.
"""

from __future__ import annotations

import importlib
from typing import Optional

NPU_PRECISION_MODE = "allow_mix_precision"


def npu_available() -> bool:
    """True when the Ascend adapter imports (it registers the NpuOptimizer with TensorFlow)."""
    try:
        importlib.import_module("npu_bridge.npu_init")
    except ImportError:
        return False
    return True


def session_config(
    precision_mode: str = NPU_PRECISION_MODE,
    allow_growth: bool = True,
    intra_op_threads: int = 0,
    inter_op_threads: int = 0,
    use_npu: Optional[bool] = None,
):
    """A tf.ConfigProto for the device at hand.

    use_npu: None = NPU when npu_bridge imports; True = require it (ImportError otherwise);
    False = plain config even where the adapter is installed.
    Thread counts of 0 let TensorFlow choose (one per core).
    """
    import tensorflow as tf
    from tensorflow.core.protobuf.rewriter_config_pb2 import RewriterConfig

    if use_npu is None:
        use_npu = npu_available()
    elif use_npu:
        importlib.import_module("npu_bridge.npu_init")

    config = tf.compat.v1.ConfigProto(
        allow_soft_placement=True,
        intra_op_parallelism_threads=intra_op_threads,
        inter_op_parallelism_threads=inter_op_threads,
    )
    if use_npu:
        custom_op = config.graph_options.rewrite_options.custom_optimizers.add()
        custom_op.name = "NpuOptimizer"
        custom_op.parameter_map["use_off_line"].b = True
        custom_op.parameter_map["precision_mode"].s = tf.compat.as_bytes(precision_mode)
        config.graph_options.rewrite_options.remapping = RewriterConfig.OFF
        config.graph_options.rewrite_options.memory_optimization = RewriterConfig.OFF
    else:
        config.gpu_options.allow_growth = allow_growth
    return config


def device_name(config) -> str:
    """'npu' if the config carries the NpuOptimizer, else 'cpu/gpu' (for log lines)."""
    names = [c.name for c in config.graph_options.rewrite_options.custom_optimizers]
    return "npu" if "NpuOptimizer" in names else "cpu/gpu"
