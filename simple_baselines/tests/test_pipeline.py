"""End to end on a tiny synthetic COCO: train, refuse to overwrite, resume, evaluate (ground-truth
and detection boxes, mean-pose baseline), export MINDIR/ONNX with ONNX Runtime parity, infer."""

import json
import re
import subprocess
import sys

import mindspore as ms
import numpy as np
import pytest
from conftest import ROOT, TINY

from posekit.synth import coco as synth

LOG_LINE = re.compile(
    r"epoch (\d+)/(\d+) step (\d+)/(\d+) loss [0-9.e-]+ lr [0-9.e+-]+ [0-9.]+ img/s "
    r"ETA \d+:\d\d:\d\d"
)


def run(script, *args):
    proc = subprocess.run(
        [sys.executable, script, *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    return proc.returncode, proc.stdout + proc.stderr


def train(data, out, *args):
    """train.py on the CPU with the tiny network, from the COCO folder `data` into `out`."""
    device = ["--device_target", "CPU", "--data_url", str(data), "--train_url", str(out)]
    return run("train.py", *device, *args, "--set", *TINY, "TEST.BATCH_SIZE=4")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pipeline")
    data = tmp / "coco"
    synth.generate(str(data), train=3, val=2, seed=4)
    out = tmp / "run"
    code, log = train(data, out, "--epochs", "1", "--batch_size", "2", "--log_interval", "1")
    assert code == 0, log[-3000:]
    return data, out, log


@pytest.mark.slow
def test_train_logs_checkpoints_and_resume(trained):
    data, out, log = trained
    lines = LOG_LINE.findall(log)
    assert lines and lines[-1][2] == lines[-1][3]  # ran to the end of the epoch
    assert (out / f"simple_baselines-1_{lines[-1][3]}.ckpt").exists()
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["MODEL"]["IMAGE_SIZE"] == [32, 64] and cfg["TRAIN"]["END_EPOCH"] == 1
    # a second run into the same folder must not overwrite the first one's checkpoints
    code, msg = train(data, out, "--epochs", "2")
    assert code != 0 and "--resume auto" in msg
    code, log2 = train(
        data, out, "--epochs", "2", "--batch_size", "2", "--resume", "auto", "--log_interval", "1"
    )
    assert code == 0, log2[-3000:]
    assert "resumed from" in log2 and "at epoch 1" in log2
    assert all(e == "2" for e, *_ in LOG_LINE.findall(log2))  # only epoch 2 was trained
    assert (out / f"simple_baselines-2_{lines[-1][3]}.ckpt").exists()


@pytest.mark.slow
def test_eval_gt_and_detection_boxes_and_baseline(trained, tmp_path):
    data, out, _ = trained
    ckpt = sorted(out.glob("simple_baselines-*.ckpt"))[0]
    common = [
        "--device_target",
        "CPU",
        "--data_url",
        str(data),
        "--config_file",
        str(out / "config.json"),
    ]
    code, log = run(
        "eval.py",
        *common,
        "--ckpt_file",
        str(ckpt),
        "--use_gt_bbox",
        "True",
        "--output_dir",
        str(tmp_path / "gt"),
        "--gallery",
        "2",
    )
    assert code == 0, log[-3000:]
    metrics = json.loads((tmp_path / "gt" / "metrics.json").read_text())
    assert metrics["boxes"] == "ground truth" and 0.0 <= metrics["AP"] <= 1.0
    assert metrics["flip_test"] is True
    results = json.loads((tmp_path / "gt" / "keypoints_val2017_results.json").read_text())
    assert results and all(r["category_id"] == 1 and len(r["keypoints"]) == 51 for r in results)
    assert (tmp_path / "gt" / "gallery.png").stat().st_size > 1000
    code, log = run(
        "eval.py",
        *common,
        "--ckpt_file",
        str(ckpt),
        "--output_dir",
        str(tmp_path / "det"),
        "--gallery",
        "0",
        "--flip_test",
        "False",
    )
    assert code == 0, log[-3000:]
    metrics = json.loads((tmp_path / "det" / "metrics.json").read_text())
    assert metrics["boxes"] == "detections" and metrics["flip_test"] is False
    dets = json.loads((data / "person_detection_results" / synth.DETECTIONS_NAME).read_text())
    assert metrics["boxes_evaluated"] == len(dets) >= metrics["results"]
    code, log = run(
        "eval.py",
        *common,
        "--baseline",
        "mean_pose",
        "--use_gt_bbox",
        "True",
        "--output_dir",
        str(tmp_path / "base"),
    )
    assert code == 0, log[-3000:]
    assert (tmp_path / "base" / "metrics_mean_pose.json").exists()


@pytest.mark.slow
def test_export_onnx_parity_and_infer(trained, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    data, out, _ = trained
    ckpt = str(sorted(out.glob("simple_baselines-*.ckpt"))[0])
    cfg_file = str(out / "config.json")
    for fmt in ("MINDIR", "ONNX"):
        code, log = run(
            "export.py",
            "--ckpt_file",
            ckpt,
            "--config_file",
            cfg_file,
            "--file_name",
            str(tmp_path / "sb"),
            "--file_format",
            fmt,
        )
        assert code == 0, log[-3000:]

    from src.checkpoint import CHECKPOINTS
    from src.config import get_config
    from src.pose_resnet import get_pose_net

    ms.set_context(mode=ms.GRAPH_MODE)
    net = get_pose_net(get_config(cfg_file))
    CHECKPOINTS.load_weights(net, ckpt)
    net.set_train(False)
    x = np.random.default_rng(0).normal(size=(1, 3, 64, 32)).astype(np.float32)
    expected = net(ms.Tensor(x)).asnumpy()
    session = ort.InferenceSession(str(tmp_path / "sb.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    assert got.shape == expected.shape == (1, 17, 16, 8)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)

    image = sorted((data / "val2017").glob("*.jpg"))[0]
    for source in (["--ckpt_file", ckpt], ["--mindir", str(tmp_path / "sb.mindir")]):
        prefix = tmp_path / ("infer_" + source[0].strip("-"))
        code, log = run(
            "infer.py",
            "--image",
            str(image),
            "--bbox",
            "10,20,80,150",
            "--config_file",
            cfg_file,
            "--output",
            str(prefix),
            *source,
        )
        assert code == 0, log[-3000:]
        result = json.loads(prefix.with_suffix(".json").read_text())
        person = result["people"][0]
        assert person["bbox"] == [10, 20, 80, 150] and len(person["keypoints"]) == 17
        assert prefix.with_suffix(".png").stat().st_size > 1000
    # both networks agree on the keypoints
    a = json.loads((tmp_path / "infer_ckpt_file.json").read_text())["people"][0]["keypoints"]
    b = json.loads((tmp_path / "infer_mindir.json").read_text())["people"][0]["keypoints"]
    np.testing.assert_allclose([a[k] for k in a], [b[k] for k in a], atol=1e-2)
    code, msg = run(
        "infer.py",
        "--image",
        str(image),
        "--bbox",
        "1,2,3",
        "--ckpt_file",
        ckpt,
        "--config_file",
        cfg_file,
    )
    assert code != 0 and "--bbox expects x,y,w,h" in msg
