import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from src import weights

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TOOLS = os.path.join(ROOT, "src", "tools")


def test_weights_round_trip_and_clear_errors(tmp_path):
    path = str(tmp_path / "w.hdf5")
    weights.save(path, {"generator/a:0": np.arange(6.0).reshape(2, 3)}, {"epoch": 3})
    values, attrs = weights.load(path)
    assert list(values) == ["generator/a"] and attrs["epoch"] == 3
    g = tf.Graph()
    with g.as_default():
        v = tf.compat.v1.get_variable("generator/a", [2, 3])
        w = tf.compat.v1.get_variable("generator/b", [3, 2])
        with tf.compat.v1.Session() as s:
            s.run(tf.compat.v1.global_variables_initializer())
            assert weights.assign_variables(path, s, [v]) == ["generator/a"]
            np.testing.assert_array_equal(s.run(v), values["generator/a"])
            with pytest.raises(ValueError, match="no weights for variable 'generator/b'"):
                weights.assign_variables(path, s, [w])
    weights.save(path, {"generator/b:0": np.zeros((2, 3))})
    with g.as_default(), tf.compat.v1.Session() as s:
        with pytest.raises(ValueError, match=r"w.hdf5: variable 'generator/b' has shape \(2, 3\)"):
            weights.assign_variables(path, s, [w])
    (tmp_path / "bad.hdf5").write_text("not hdf5")
    with pytest.raises(ValueError, match="bad.hdf5: not a readable HDF5"):
        weights.load(str(tmp_path / "bad.hdf5"))


def test_checkpoint_selection(tmp_path):
    for name in (
        "pix2pose.01-0.5000.hdf5",
        "pix2pose.02-0.3000.hdf5",
        "pix2pose.03-0.4000.hdf5",
        "inference.hdf5",
    ):
        (tmp_path / name).write_text("")
    assert weights.latest_checkpoint(str(tmp_path)) == (
        3,
        str(tmp_path / "pix2pose.03-0.4000.hdf5"),
    )
    assert weights.best_checkpoint(str(tmp_path)) == str(tmp_path / "pix2pose.02-0.3000.hdf5")
    assert weights.latest_checkpoint(str(tmp_path / "missing")) is None


def run_tool(*args):
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run(
        [sys.executable] + list(args),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    return proc.stdout


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """A tiny synthetic BOP set, preprocessed, trained for a few iterations at 32 x 32."""
    from posekit.synth import bop as synth_bop

    root = tmp_path_factory.mktemp("p2p")
    data, out = str(root / "data"), str(root / "out")
    synth_bop.generate(data, train_per_obj=3, test_scenes=1, test_per_scene=2, seed=1)
    cfg = os.path.join(str(root), "cfg.json")
    with open(os.path.join(TOOLS, "cfg", "cfg_demo.json")) as f:
        c = json.load(f)
    c.update(
        img_size=32,
        width=0.125,
        batch_size=4,
        max_epoch=1,
        max_iter_per_epoch=2,
        augment_inplane=90,
    )
    with open(cfg, "w") as f:
        json.dump(c, f)
    run_tool(
        os.path.join(TOOLS, "2_1_ply_file_to_3d_coord_model.py"),
        "--data_path",
        data,
        "--output_path",
        out,
        cfg,
        "synth",
    )
    run_tool(
        os.path.join(TOOLS, "2_2_render_pix2pose_training.py"),
        "--data_path",
        data,
        "--output_path",
        out,
        "--obj_id",
        "2",
        cfg,
        "synth",
    )
    log = run_tool(
        os.path.join(TOOLS, "3_train_pix2pose.py"),
        "--data_path",
        data,
        "--output_path",
        out,
        "--obj_id",
        "02",
        "--cfg",
        cfg,
        "--dataset",
        "synth",
        "--summary",
        os.path.join(out, "s.json"),
    )
    return {"data": data, "out": out, "cfg": cfg, "log": log}


@pytest.mark.slow  # shares the preprocessing + training fixture (about a minute)
def test_preprocessing_outputs(pipeline):
    out = pipeline["out"]
    nf = json.load(open(os.path.join(out, "models_xyz", "norm_factor.json")))
    assert sorted(nf) == ["1", "2", "3"]
    crops = sorted(os.listdir(os.path.join(out, "train_xyz", "02")))
    # 3 views, each with in-plane copies at 90, 180 and 270 deg (obj 2 has no continuous symmetry)
    assert len(crops) == 12 and "000000_090.npy" in crops
    c = np.load(os.path.join(out, "train_xyz", "02", crops[0]))
    assert c.dtype == np.uint8 and c.shape[2] == 6 and max(c.shape[:2]) <= 32
    obj = c[:, :, 3:].astype(int).sum(2) > 0
    # background is grey, apart from pixels that the downscaling blended with the object
    assert obj.any() and np.mean(np.all(c[~obj][:, :3] == 128, axis=1)) > 0.6


@pytest.mark.slow  # shares the preprocessing + training fixture (about a minute)
def test_training_logs_saves_and_resumes(pipeline):
    log, out = pipeline["log"], pipeline["out"]
    assert "Epoch00-Iter000/002" in log and "img/s, ETA" in log and "Train finished" in log
    # fixed-size batches let posekit.tfkernels see every convolution (oneDNN keeps its own)
    assert "conv gradient kernels: Eigen's for" in log or "(oneDNN build)" in log
    wdir = os.path.join(out, "pix2pose_weights", "02")
    names = sorted(os.listdir(wdir))
    assert [n for n in names if n.startswith("pix2pose.")] == sorted(
        n for n in names if n.startswith("pix2pose.0")
    )
    assert weights.latest_checkpoint(wdir)[0] == 2
    assert os.path.exists(os.path.join(wdir, "val_img", "pix2pose_02.png"))
    summary = json.load(open(os.path.join(out, "s.json")))
    assert summary["iters_per_epoch"] == 2 and summary["epochs"] == 2
    # a rerun with one more epoch resumes at epoch 2 instead of starting again
    log2 = run_tool(
        os.path.join(TOOLS, "3_train_pix2pose.py"),
        "--data_path",
        pipeline["data"],
        "--output_path",
        out,
        "--obj_id",
        "2",
        "--cfg",
        pipeline["cfg"],
        "--dataset",
        "synth",
        "--max_epoch",
        "2",
    )
    assert "resuming from" in log2 and "Epoch02-Iter000" in log2 and "Epoch00-" not in log2
    assert weights.latest_checkpoint(wdir)[0] == 3


@pytest.mark.slow  # shares the preprocessing + training fixture (about a minute)
def test_convert_export_evaluate_infer(pipeline):
    data, out, cfg = pipeline["data"], pipeline["out"], pipeline["cfg"]
    run_tool(
        os.path.join(TOOLS, "4_convert_weights_inference.py"),
        "--output_path",
        out,
        "--obj_id",
        "2",
        "--cfg",
        cfg,
    )
    wdir = os.path.join(out, "pix2pose_weights", "02")
    text = run_tool(
        os.path.join(ROOT, "export.py"),
        "--output_path",
        out,
        "--obj_id",
        "2",
        "--cfg",
        cfg,
        "--onnx",
    )
    assert "onnx:" in text and os.path.getsize(os.path.join(wdir, "inference.onnx")) > 1000
    from src.graph import FrozenGraph, GeneratorSession

    x = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    a, b = (
        GeneratorSession(os.path.join(wdir, "inference.hdf5"), 32, 0.125),
        FrozenGraph(os.path.join(wdir, "inference.pb")),
    )
    for u, v in zip(a(x), b(x)):
        np.testing.assert_allclose(u, v, atol=1e-5)
    text = run_tool(
        os.path.join(TOOLS, "5_evaluation_bop_basic.py"),
        "--data_path",
        data,
        "--output_path",
        out,
        "--cfg",
        cfg,
        "--dataset",
        "synth",
        "--frozen",
        "2=" + os.path.join(wdir, "inference.pb"),
        "--json",
        os.path.join(out, "eval.json"),
        "--picture",
        os.path.join(out, "poses.png"),
    )
    assert "boxes: ground-truth visible boxes" in text and "baseline (mean training pose)" in text
    assert "time column: pose estimation per image (no detector)" in text
    res = json.load(open(os.path.join(out, "eval.json")))
    assert res["csv"].endswith("pix2pose-demo_synth-test.csv") and res["n_targets"] >= 1
    for key in ("ar", "mssd", "mspd", "vsd", "adds_recall"):
        assert 0.0 <= res["scores"][key] <= 1.0
    info = json.load(open(os.path.join(data, "test", "000001", "scene_gt_info.json")))
    x0, y0, w, h = info["0"][1]["bbox_visib"]
    img = os.path.join(data, "test", "000001", "rgb", "000000.png")
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "infer.py"),
            "--image",
            img,
            "--bbox",
            f"{x0},{y0},{w},{h}",
            "--obj_id",
            "2",
            "--output_path",
            out,
            "--data_path",
            data,
            "--cfg",
            cfg,
            "--dataset",
            "synth",
            "--out",
            os.path.join(out, "one.png"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # an almost untrained network may find too few confident pixels: then it says so (exit 1)
    last = json.loads(proc.stdout.strip().splitlines()[-1])
    assert last["obj_id"] == 2
    assert (
        proc.returncode == 0
        and len(last["R"]) == 9
        and os.path.exists(os.path.join(out, "one.png"))
    ) or (proc.returncode == 1 and last["pose"] is None)


def jittered_detections(data, seconds, seed=0):
    """BOP'22 detections from the visible ground-truth boxes, shifted and scaled by up to 10 %,
    plus a low-scoring decoy box per instance that must lose to the real one."""
    from posekit import bop

    rng = np.random.default_rng(seed)
    dets = []
    scene = os.path.join(data, "test", "000001")
    gts = bop.load_scene_gt(os.path.join(scene, "scene_gt.json"))
    infos = bop.load_scene_gt_info(os.path.join(scene, "scene_gt_info.json"))
    for im_id in sorted(gts):
        for g, info in zip(gts[im_id], infos[im_id]):
            x, y, w, h = info["bbox_visib"].astype(float)
            if w <= 0 or h <= 0:
                continue
            dx, dy, sw, sh = rng.uniform(-0.1, 0.1, 4)
            box = [x + dx * w, y + dy * h, w * (1 + sw), h * (1 + sh)]
            for bbox, score in ((box, rng.uniform(0.5, 1.0)), ([0, 0, w, h], 0.01)):
                dets.append(
                    {
                        "scene_id": 1,
                        "im_id": im_id,
                        "obj_id": g["obj_id"],
                        "bbox": bbox,
                        "score": score,
                        "time": seconds,
                    }
                )
    return dets


@pytest.mark.slow  # shares the preprocessing + training fixture (about a minute)
def test_evaluate_with_detections_file(pipeline):
    from posekit import bop

    data, out, cfg = pipeline["data"], pipeline["out"], pipeline["cfg"]
    if not os.path.exists(os.path.join(out, "pix2pose_weights", "02", "inference.hdf5")):
        run_tool(
            os.path.join(TOOLS, "4_convert_weights_inference.py"),
            *("--output_path", out, "--obj_id", "2", "--cfg", cfg),
        )
    det_path = os.path.join(out, "dets.json")
    dets = jittered_detections(data, seconds=0.75)
    bop.save_detections(det_path, dets)
    eval_out = os.path.join(out, "eval_det")
    shutil.copytree(os.path.join(out, "models_xyz"), os.path.join(eval_out, "models_xyz"))
    shutil.copytree(
        os.path.join(out, "pix2pose_weights", "02"),
        os.path.join(eval_out, "pix2pose_weights", "02"),
    )
    text = run_tool(
        os.path.join(ROOT, "eval.py"),
        *("--data_path", data, "--output_path", eval_out, "--cfg", cfg, "--dataset", "synth"),
        *("--obj_id", "2", "--no_vsd", "--detections", det_path),
        *("--json", os.path.join(eval_out, "eval.json")),
    )
    assert f"boxes: detections from {det_path}" in text
    assert "time column: detector time from the detections file + pose estimation" in text
    res = json.load(open(os.path.join(eval_out, "eval.json")))
    assert res["boxes"].startswith("detections from") and res["detection_file"] == det_path
    # one box per target (inst_count 1 each): the jittered one, never the decoy
    assert res["n_boxes"] == res["n_instances"] == res["n_targets"] == 2
    # the network has trained for 2 iterations and may find no pose; the CSV is checked below
    # with a stand-in estimator that always answers
    assert len(bop.read_results(res["csv"])) == res["n_estimates"]


class AlwaysPose:
    """Stands in for Pix2PoseEstimator: records the boxes and answers a fixed pose."""

    boxes = []

    def __init__(self, *args, **kwargs):
        self.K = None

    def estimate(self, rgb, bbox):
        AlwaysPose.boxes.append(np.asarray(bbox, dtype=float))
        return {"R": np.eye(3), "t": np.array([0.0, 0.0, 700.0]), "score": 0.123}


@pytest.mark.slow  # shares the preprocessing + training fixture (about a minute)
def test_detection_boxes_scores_and_times_reach_the_csv(pipeline, tmp_path, monkeypatch):
    from src import evaluate as ev

    from posekit import bop

    monkeypatch.setattr(ev, "Pix2PoseEstimator", AlwaysPose)
    data, cfg = pipeline["data"], json.load(open(pipeline["cfg"]))
    shutil.copytree(os.path.join(pipeline["out"], "models_xyz"), str(tmp_path / "models_xyz"))
    predictors = {2: type("Net", (), {"size": 32})()}
    dets = jittered_detections(data, seconds=0.75)
    AlwaysPose.boxes = []
    res = ev.evaluate(
        data, str(tmp_path), cfg, "synth", [2], predictors, False, False, None, "d.json", dets
    )
    real = [d for d in dets if d["obj_id"] == 2 and d["score"] > 0.1]
    # the top-scoring box of each target, never the decoy
    assert len(AlwaysPose.boxes) == len(real) == 2
    for b, d in zip(AlwaysPose.boxes, sorted(real, key=lambda d: d["im_id"])):
        np.testing.assert_array_equal(b, d["bbox"])
    rows = bop.read_results(res["csv"])
    assert [(r["im_id"], r["score"]) for r in rows] == [(d["im_id"], d["score"]) for d in real]
    for r in rows:
        assert 0.75 <= r["time"] < 0.75 + 30  # detector time + pose time
    assert res["boxes"].startswith("detections from d.json") and "-1" not in res["time"]
    # a detector without time: the whole time is unknown (-1), and the output says so
    for d in dets:
        d["time"] = -1.0
    res = ev.evaluate(
        data, str(tmp_path), cfg, "synth", [2], predictors, False, False, None, "d.json", dets
    )
    assert [r["time"] for r in bop.read_results(res["csv"])] == [-1.0, -1.0]
    assert "-1 (unknown) for 2 images" in res["time"]
    # ground-truth boxes: the pose's own score, pose time only
    res = ev.evaluate(data, str(tmp_path), cfg, "synth", [2], predictors, False, False)
    assert res["boxes"].startswith("ground-truth visible boxes")
    assert [r["score"] for r in bop.read_results(res["csv"])] == [0.123, 0.123]


def test_detection_boxes_take_the_top_scoring_up_to_inst_count():
    from src.evaluate import detection_boxes

    def det(im, obj, score, x):
        return {"scene_id": 1, "im_id": im, "obj_id": obj, "bbox": [x, 0, 5, 5], "score": score,
                "time": 0.5 + im}  # fmt: skip

    targets = [
        {"scene_id": 1, "im_id": 0, "obj_id": 2, "inst_count": 2},
        {"scene_id": 1, "im_id": 1, "obj_id": 2, "inst_count": 1},
    ]
    dets = [det(0, 2, 0.2, 1), det(0, 2, 0.9, 2), det(0, 3, 1.0, 3), det(0, 2, 0.5, 4)]
    boxes, times = detection_boxes(dets, targets, "d.json")
    assert [(b[0], s) for b, s in boxes[(1, 0, 2)]] == [(2, 0.9), (4, 0.5)]
    assert boxes[(1, 1, 2)] == [] and times == {(1, 0): 0.5}
    with pytest.raises(ValueError, match="d.json: no detection names a test target"):
        detection_boxes([det(1, 3, 1.0, 0), det(2, 2, 1.0, 0)], targets, "d.json")


def test_evaluation_names_a_malformed_detections_file(tmp_path):
    import runpy

    tool = runpy.run_path(os.path.join(TOOLS, "5_evaluation_bop_basic.py"))
    good = {"scene_id": 1, "image_id": 0, "category_id": 2, "bbox": [1, 2, 3, 4], "score": 0.5}
    path = tmp_path / "dets.json"
    path.write_text(json.dumps([good, dict(good, bbox=[1, 2, 3])]))
    with pytest.raises(SystemExit, match=r"dets.json: detection 1: key 'bbox': expected a list"):
        tool["main"](["--data_path", str(tmp_path), "--output_path", str(tmp_path),
                      "--detections", str(path)])  # fmt: skip
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"detection_file": "missing.json"}))
    with pytest.raises(SystemExit, match=r"missing.json: detections file not found"):
        tool["main"](["--data_path", str(tmp_path), "--output_path", str(tmp_path),
                      "--cfg", str(cfg)])  # fmt: skip


@pytest.mark.slow  # shares the preprocessing + training fixture (about a minute)
def test_modelarts_entry_copies_through_a_stand_in_moxing(pipeline, tmp_path, monkeypatch):
    import modelarts_entry

    from posekit.modelarts import copy_tree
    from posekit.testing import StandInMoxing

    mox = StandInMoxing(tmp_path, monkeypatch)
    dataset = os.path.join(mox.obs, "bucket", "dataset")
    copy_tree(pipeline["data"], dataset)
    for sub in ("models_xyz", "train_xyz"):
        copy_tree(os.path.join(pipeline["out"], sub), os.path.join(dataset, sub))
    modelarts_entry.main(
        ["--data_url", "obs://bucket/dataset", "--train_url", "obs://bucket/job/",
         "--obj_id", "2", "--local_dir", str(tmp_path / "cache"), "--cfg", pipeline["cfg"],
         "--dataset", "synth", "--max_epoch", "0"]
    )  # fmt: skip
    assert mox.calls() == [
        ("obs://bucket/dataset", str(tmp_path / "cache" / "data")),
        (
            str(tmp_path / "cache" / "data" / "pix2pose_weights"),
            "obs://bucket/job/pix2pose_weights",
        ),
    ]
    out = os.path.join(mox.obs, "bucket", "job", "pix2pose_weights", "02")
    assert any(n.startswith("pix2pose.01-") for n in os.listdir(out))


def test_modelarts_entry_without_moxing_needs_a_local_folder(tmp_path, monkeypatch):
    import modelarts_entry

    monkeypatch.setitem(sys.modules, "moxing", None)  # import fails, as off ModelArts
    with pytest.raises(SystemExit, match="folder not found"):
        modelarts_entry.main(
            ["--data_url", str(tmp_path / "nope"), "--train_url", str(tmp_path), "--obj_id", "1"]
        )


def test_session_config_uses_the_npu_optimizer_when_npu_bridge_imports(tmp_path, monkeypatch):
    from posekit import tfdevice

    pkg = tmp_path / "npu_bridge"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "npu_init.py").write_text("# stand-in for the Ascend adapter\n")
    assert tfdevice.device_name(tfdevice.session_config()) == "cpu/gpu"
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("npu_bridge", "npu_bridge.npu_init"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    config = tfdevice.session_config()
    assert tfdevice.device_name(config) == "npu"
    opt = config.graph_options.rewrite_options.custom_optimizers[0]
    assert opt.parameter_map["precision_mode"].s == b"allow_mix_precision"
    from tensorflow.core.protobuf.rewriter_config_pb2 import RewriterConfig

    assert config.graph_options.rewrite_options.remapping == RewriterConfig.OFF
