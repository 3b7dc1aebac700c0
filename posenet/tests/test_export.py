import mindspore as ms
import numpy as np
import onnxruntime as ort
from src.posenet import PoseNet, PoseNetPredictor

ms.set_context(mode=ms.GRAPH_MODE)
ms.set_device("CPU")


def test_onnx_runtime_matches_mindspore(tmp_path):
    ms.set_seed(5)
    net = PoseNet(64)
    # Non-trivial BatchNorm statistics, so the exported inference graph must apply them.
    rng = np.random.default_rng(5)
    for p in net.get_parameters():
        if p.name.endswith("moving_mean"):
            p.set_data(ms.Tensor(rng.normal(0, 0.1, p.shape).astype(np.float32)))
        elif p.name.endswith("moving_variance"):
            p.set_data(ms.Tensor(rng.uniform(0.5, 2.0, p.shape).astype(np.float32)))
    pred = PoseNetPredictor(net)
    pred.set_train(False)
    x = rng.uniform(-1, 1, (1, 3, 64, 64)).astype(np.float32)
    want = pred(ms.Tensor(x)).asnumpy()
    path = str(tmp_path / "posenet")
    ms.export(pred, ms.Tensor(x), file_name=path, file_format="ONNX")
    session = ort.InferenceSession(path + ".onnx", providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    assert got.shape == (1, 7)
    assert np.abs(got - want).max() < 1e-4
