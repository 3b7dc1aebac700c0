"""Export to MINDIR and ONNX; ONNX Runtime gives the MindSpore outputs; eval_onnx and infer run."""

import json

import eval_onnx
import export
import infer
import mindspore as ms
import numpy as np
import pytest
from conftest import TINY
from src.model.HRNet import get_pose_net
from src.utils.checkpoint import CHECKPOINTS

ort = pytest.importorskip("onnxruntime")


def test_onnx_runtime_matches_mindspore(tmp_path, tiny_cfg, tiny_ckpt):
    ms.set_context(mode=ms.GRAPH_MODE)
    onnx_path = export.export(tiny_cfg, tiny_ckpt, str(tmp_path / "pose"), "ONNX", batch_size=2)
    mindir_path = export.export(tiny_cfg, tiny_ckpt, str(tmp_path / "pose"), "MINDIR", 2)
    net = get_pose_net(tiny_cfg)
    CHECKPOINTS.load_weights(net, tiny_ckpt)
    net.set_train(False)
    x = np.random.default_rng(1).standard_normal((2, 3, 64, 64)).astype(np.float32)
    expected = net(ms.Tensor(x)).asnumpy()
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    assert got.shape == expected.shape == (2, 36, 16, 16)
    assert np.abs(got - expected).max() < 1e-4
    graph = ms.load(mindir_path)
    mindir_out = ms.nn.GraphCell(graph)(ms.Tensor(x)).asnumpy()
    assert np.abs(mindir_out - expected).max() < 1e-4
    # a ragged batch is padded to the exported size and the padding dropped
    forward = eval_onnx.onnx_forward(onnx_path, "CPU")
    three = np.concatenate([x, x[:1]])
    assert np.allclose(forward(three)[2], expected[0], atol=1e-4)


def test_eval_onnx_and_infer(tmp_path, tiny_veri, tiny_cfg, tiny_ckpt, capsys):
    root, labels = tiny_veri
    ms.set_context(mode=ms.GRAPH_MODE)
    onnx_path = export.export(tiny_cfg, tiny_ckpt, str(tmp_path / "pose"), "ONNX", batch_size=4)
    ref, honest = eval_onnx.main(
        ["--cfg", "config.yaml", "--data_dir", root, "--onnx_path", onnx_path,
         "--device_target", "CPU", "--set", *TINY]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "reference protocol" in out and "honest protocol" in out and "| Mean@0.1 |" in out
    assert ref.hits.shape == (5, 36) and honest.hits.shape == (5, 36)

    image = tmp_path / "veri" / "images" / "image_test" / labels["test"].names[0]
    record = infer.main(
        ["--image", str(image), "--ckpt_path", tiny_ckpt, "--cfg", "config.yaml",
         "--output_dir", str(tmp_path / "out"), "--set", *TINY]
    )  # fmt: skip
    stem = labels["test"].names[0][:-4]
    saved = json.loads((tmp_path / "out" / f"{stem}_keypoints.json").read_text())
    assert saved == json.loads(json.dumps(record))
    assert len(saved["keypoints"]) == 36 and saved["keypoints"][18]["name"] == "right_rear_wheel"
    assert (tmp_path / "out" / f"{stem}_keypoints.png").stat().st_size > 0
