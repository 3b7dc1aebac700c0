"""Training, resume, evaluation, export and inference, end to end on a tiny rendered scene."""

import json
import os

import mindspore as ms
import numpy as np
import pytest
from conftest import TRAIN_ARGS, run_py

from posekit import cambridge

pytestmark = pytest.mark.slow


def test_train_logs_checkpoints_and_keeps_n(trained):
    work, ckpt, stdout = trained
    assert "graph compiled" in stdout
    assert "step: 3/3, loss is" in stdout and "images/s" in stdout and "ETA" in stdout
    # Saved at steps 2 and 3 with keep 1: only the newest remains, no temporary file.
    assert sorted(os.listdir(work / "ckpt")) == ["train_posenet_Tiny-3.ckpt"]
    params = ms.load_checkpoint(ckpt)
    assert int(params["step"].asnumpy()) == 3
    # Optimiser state is saved too (Adagrad accumulators), so a resume continues exactly.
    assert any(name.startswith("accum.") for name in params)


def test_resume_continues_from_saved_step(trained, scene, tmp_path):
    work, ckpt, _ = trained
    ckpt_dir = tmp_path / "ckpt"
    ckpt_dir.mkdir()
    (ckpt_dir / os.path.basename(ckpt)).write_bytes(open(ckpt, "rb").read())
    proc = run_py(
        ["train.py"]
        + TRAIN_ARGS
        + [
            "--dataset_path",
            scene,
            "--mindrecord_dir",
            str(work / "mindrecord"),
            "--checkpoint_dir",
            str(ckpt_dir),
            "--max_steps",
            "5",
            "--resume",
            "True",
            "--lr_drop_step",  # a per-step rate array longer than the saved run's
            "4",
        ]
    )
    assert "at step 3" in proc.stdout and "step: 4/5" in proc.stdout
    assert "step: 1/5" not in proc.stdout
    resumed = ms.load_checkpoint(str(ckpt_dir / "train_posenet_Tiny-5.ckpt"))
    before = ms.load_checkpoint(ckpt)
    assert int(resumed["step"].asnumpy()) == 5
    np.testing.assert_allclose(resumed["learning_rate"].asnumpy()[[3, 4]], [1e-3, 1e-4], rtol=1e-6)
    w = "backbone.conv1.conv.weight"
    assert not np.array_equal(resumed[w].asnumpy(), before[w].asnumpy())


def test_eval_export_infer(trained, scene, tmp_path):
    work, ckpt, _ = trained
    out = tmp_path / "eval"
    proc = run_py(
        [
            "eval.py",
            "--device_target",
            "CPU",
            "--dataset",
            "Tiny",
            "--dataset_path",
            scene,
            "--mindrecord_dir",
            str(work / "mindrecord"),
            "--ckpt_path",
            ckpt,
            "--image_size",
            "64",
            "--resize_size",
            "64",
            "--batch_size",
            "3",
            "--output_dir",
            str(out),
        ]
    )
    assert "Median error" in proc.stdout
    metrics = json.load(open(out / "metrics.json"))
    test = cambridge.load_split(scene, "test")
    # Predictions in the Cambridge format, one per test image, same order.
    preds = cambridge.read_split(str(out / "predictions_test.txt"))
    assert preds.names == test.names
    pos_err, rot_err = cambridge.pose_errors(
        test.positions, test.quaternions, preds.positions, preds.quaternions
    )
    assert metrics["metrics"]["all"]["median_position_m"] == pytest.approx(
        np.median(pos_err), abs=1e-5
    )
    assert metrics["metrics"]["all"]["median_rotation_deg"] == pytest.approx(
        np.median(rot_err), abs=1e-3
    )
    assert metrics["metrics"]["seq2"]["count"] == 8
    assert set(metrics["baseline_mean_pose"]) >= {"median_position_m", "median_rotation_deg"}
    for png in ("error_cdf.png", "topdown.png"):
        assert open(out / png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"

    onnx = str(tmp_path / "posenet")
    run_py(
        [
            "export.py",
            "--ckpt_path",
            ckpt,
            "--image_size",
            "64",
            "--file_format",
            "ONNX",
            "--file_name",
            onnx,
        ]
    )
    run_py(
        [
            "export.py",
            "--ckpt_path",
            ckpt,
            "--image_size",
            "64",
            "--file_format",
            "MINDIR",
            "--file_name",
            onnx,
        ]
    )
    image = os.path.join(scene, test.names[0])
    common = ["--image", image, "--image_size", "64", "--resize_size", "64", "--output"]
    results = {}
    for name, source in (
        ("ckpt", ["--ckpt_path", ckpt]),
        ("onnx", ["--model", onnx + ".onnx"]),
        ("mindir", ["--model", onnx + ".mindir"]),
    ):
        path = str(tmp_path / f"{name}.json")
        run_py(["infer.py"] + source + common + [path])
        results[name] = json.load(open(path))[0]
    ref = results["ckpt"]
    assert ref["image"] == image
    np.testing.assert_allclose(np.linalg.norm(ref["quaternion"]), 1.0, atol=1e-5)
    # Same as eval's prediction for that image, and the exported models agree with MindSpore.
    np.testing.assert_allclose(ref["position"], preds.positions[0], atol=1e-5)
    for name in ("onnx", "mindir"):
        got = np.array(results[name]["position"] + results[name]["quaternion"])
        np.testing.assert_allclose(got, ref["position"] + ref["quaternion"], atol=1e-4)
