"""posekit.tfdevice: the NPU config when npu_bridge imports (stand-in module), plain otherwise."""

import sys

import pytest
import tensorflow as tf
from tensorflow.core.protobuf.rewriter_config_pb2 import RewriterConfig

from posekit import tfdevice


@pytest.fixture
def no_npu_bridge(monkeypatch):
    for name in list(sys.modules):
        if name.startswith("npu_bridge"):
            monkeypatch.delitem(sys.modules, name)


@pytest.fixture
def stand_in_npu_bridge(tmp_path, monkeypatch, no_npu_bridge):
    pkg = tmp_path / "npu_bridge"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "npu_init.py").write_text("LOADED = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for name in list(sys.modules):
        if name.startswith("npu_bridge"):
            del sys.modules[name]


def test_plain_config_without_npu_bridge(no_npu_bridge):
    assert not tfdevice.npu_available()
    config = tfdevice.session_config(intra_op_threads=2)
    assert isinstance(config, tf.compat.v1.ConfigProto)
    assert len(config.graph_options.rewrite_options.custom_optimizers) == 0
    assert config.gpu_options.allow_growth
    assert config.intra_op_parallelism_threads == 2
    assert tfdevice.device_name(config) == "cpu/gpu"
    with tf.Graph().as_default(), tf.compat.v1.Session(config=config) as sess:
        assert sess.run(tf.constant(2.0) * 3.0) == 6.0
    with pytest.raises(ImportError):
        tfdevice.session_config(use_npu=True)


def test_npu_config_with_stand_in_npu_bridge(stand_in_npu_bridge):
    assert tfdevice.npu_available()
    config = tfdevice.session_config()
    rewrite = config.graph_options.rewrite_options
    (custom,) = rewrite.custom_optimizers
    assert custom.name == "NpuOptimizer"
    assert custom.parameter_map["precision_mode"].s == b"allow_mix_precision"
    assert custom.parameter_map["use_off_line"].b is True
    assert rewrite.remapping == RewriterConfig.OFF
    assert rewrite.memory_optimization == RewriterConfig.OFF
    assert tfdevice.device_name(config) == "npu"
    # the config survives serialisation, as a session would receive it
    again = tf.compat.v1.ConfigProto.FromString(config.SerializeToString())
    assert again.graph_options.rewrite_options.custom_optimizers[0].name == "NpuOptimizer"
    forced_off = tfdevice.session_config(use_npu=False)
    assert len(forced_off.graph_options.rewrite_options.custom_optimizers) == 0
    custom_precision = tfdevice.session_config(precision_mode="must_keep_origin_dtype")
    opt = custom_precision.graph_options.rewrite_options.custom_optimizers[0]
    assert opt.parameter_map["precision_mode"].s == b"must_keep_origin_dtype"
