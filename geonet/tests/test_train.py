"""Training (with resume), test_pose / test_depth / test_flow, evaluation, export and inference,
each through its command line, on a rendered KITTI tree and the tiny network."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from conftest import run_py, tiny_flags

from posekit import kitti


def test_training_logs_and_resumes(trained, prepared):
    ckpt, out = trained
    assert "Iteration: [      3] | Time:" in out and "images/s | ETA" in out
    assert "rigid_warp" in out and "finished at step 3" in out
    # the kernel choice of posekit.tfkernels ran (the opt-in oneDNN build keeps its own kernels)
    assert "conv gradient kernels: Eigen's for" in out or "(oneDNN build)" in out
    assert tf.train.latest_checkpoint(ckpt).endswith("model-3")
    assert any(f.startswith("events.out.tfevents") for f in os.listdir(ckpt))
    resumed = os.path.join(os.path.dirname(ckpt), "resume_ckpt")
    os.makedirs(resumed, exist_ok=True)
    for name in os.listdir(ckpt):
        if name.startswith(("model-3", "checkpoint")):
            with open(os.path.join(ckpt, name), "rb") as src:
                open(os.path.join(resumed, name), "wb").write(src.read())
    out = run_py(
        ["geonet_main.py", "--mode=train_rigid", f"--dataset_dir={prepared}",
         f"--checkpoint_dir={resumed}", "--max_steps=5", "--log_freq=1"] + tiny_flags()
    )  # fmt: skip
    assert "resumed from" in out and "steps 3 -> 5" in out
    assert "Iteration: [      4]" in out and "finished at step 5" in out
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(resumed))
    assert reader.get_tensor("global_step") == 5


def test_pose_prediction_and_evaluation(trained, synthetic_kitti, tmp_path):
    ckpt, _ = trained
    pred = str(tmp_path / "pose")
    gt = str(tmp_path / "gt")
    run_py(
        ["geonet_main.py", "--mode=test_pose", f"--dataset_dir={synthetic_kitti}",
         f"--init_ckpt_file={tf.train.latest_checkpoint(ckpt)}", "--pose_test_seq=9",
         f"--output_dir={pred}"] + tiny_flags(batch_size=3)
    )  # fmt: skip
    assert sorted(os.listdir(pred)) == [f"{i:06d}.txt" for i in range(12)]
    run_py(["kitti_eval/generate_pose_snippets.py", f"--dataset_dir={synthetic_kitti}",
            f"--output_dir={gt}", "--seq_id=9", "--seq_length=3"])  # fmt: skip
    plot = str(tmp_path / "traj.png")
    out = run_py(
        ["kitti_eval/eval_pose.py", f"--gtruth_dir={gt}", f"--pred_dir={pred}",
         f"--dataset_dir={synthetic_kitti}", "--seq_id=9", f"--plot={plot}",
         f"--json={tmp_path / 'pose.json'}"]
    )  # fmt: skip
    assert "ATE mean:" in out and "(12 snippets)" in out and "Trajectory: ATE RMSE" in out
    result = json.loads((tmp_path / "pose.json").read_text())
    assert result["snippets"] == 12 and result["ate_snippet_mean"] > 0
    assert os.path.getsize(plot) > 5000


def test_depth_prediction_and_evaluation(trained, synthetic_kitti, tmp_path):
    ckpt, _ = trained
    test_list = tmp_path / "test_files.txt"
    test_list.write_text("".join(f"sequences/09/image_2/{i:06d}.png\n" for i in (0, 4, 8, 13)))
    out_dir = str(tmp_path / "depth")
    ckpt_file = tf.train.latest_checkpoint(ckpt)
    run_py(
        ["geonet_main.py", "--mode=test_depth", f"--dataset_dir={synthetic_kitti}",
         f"--init_ckpt_file={ckpt_file}", f"--depth_test_split={test_list}",
         f"--output_dir={out_dir}"] + tiny_flags(batch_size=3)
    )  # fmt: skip
    pred_file = os.path.join(out_dir, os.path.basename(ckpt_file) + ".npy")
    preds = np.load(pred_file)
    assert preds.shape == (4, 32, 96) and np.all(preds > 0)
    assert len(os.listdir(os.path.join(out_dir, "depth_png"))) == 4
    out = run_py(
        ["kitti_eval/eval_depth.py", f"--pred_file={pred_file}", f"--test_file_list={test_list}",
         f"--dataset_dir={synthetic_kitti}", f"--json={tmp_path / 'd.json'}"]
    )  # fmt: skip
    assert "abs_rel" in out
    result = json.loads((tmp_path / "d.json").read_text())
    assert 0 < result["abs_rel"] < 5 and result["n"] == 4


def test_flow_prediction_and_evaluation(trained, prepared, synthetic_kitti, tmp_path):
    ckpt, _ = trained
    flow_ckpt = str(tmp_path / "flow_ckpt")
    # one residual-flow step on top of the rigid checkpoint, then predict and evaluate
    out = run_py(
        ["geonet_main.py", "--mode=train_flow", f"--dataset_dir={prepared}",
         f"--checkpoint_dir={flow_ckpt}", f"--init_ckpt_file={tf.train.latest_checkpoint(ckpt)}",
         "--max_steps=1", "--log_freq=1"] + tiny_flags()
    )  # fmt: skip
    assert "initialised" in out and "flow_warp" in out
    pred = str(tmp_path / "flow")
    run_py(
        ["geonet_main.py", "--mode=test_flow", f"--dataset_dir={synthetic_kitti}",
         f"--init_ckpt_file={tf.train.latest_checkpoint(flow_ckpt)}", "--pose_test_seq=9",
         f"--output_dir={pred}"] + tiny_flags(batch_size=4)
    )  # fmt: skip
    assert len(os.listdir(pred)) == 12
    gt_dir = os.path.join(kitti.sequence_dir(synthetic_kitti, 9), "flow_2")
    out = run_py(["kitti_eval/eval_flow.py", f"--pred_dir={pred}", f"--gt_dir={gt_dir}"])
    assert "EPE" in out and "(12 pairs)" in out


@pytest.mark.slow
def test_export_and_infer_match_the_checkpoint(trained, synthetic_kitti, tmp_path):
    ckpt, _ = trained
    export_dir = str(tmp_path / "export")
    ckpt_file = tf.train.latest_checkpoint(ckpt)
    run_py(["export.py", f"--ckpt_file={ckpt_file}", f"--output_dir={export_dir}",
            "--img_height=32", "--img_width=96", "--seq_length=3", "--dispnet_encoder=vgg",
            "--net_width=0.125"])  # fmt: skip
    assert {"geonet_depth.pb", "geonet_pose.pb", "geonet_export.json"} <= set(
        os.listdir(export_dir)
    )
    frames = [kitti.image_path(synthetic_kitti, 9, i) for i in (3, 4, 5)]
    out_dir = tmp_path / "infer"
    run_py(["infer.py", f"--export_dir={export_dir}", f"--output_dir={out_dir}",
            f"--image={frames[1]}", "--snippet"] + frames)  # fmt: skip
    depth = np.load(out_dir / "000004_depth.npy")
    pose = json.loads((out_dir / "pose.json").read_text())
    assert (out_dir / "000004_depth.png").exists()
    # the same numbers straight from the checkpoint
    test_list = tmp_path / "one.txt"
    test_list.write_text("sequences/09/image_2/000004.png\n")
    run_py(["geonet_main.py", "--mode=test_depth", f"--dataset_dir={synthetic_kitti}",
            f"--init_ckpt_file={ckpt_file}", f"--depth_test_split={test_list}",
            f"--output_dir={tmp_path / 'd'}"] + tiny_flags(batch_size=1))  # fmt: skip
    np.testing.assert_allclose(
        depth, np.load(tmp_path / "d" / (os.path.basename(ckpt_file) + ".npy"))[0], rtol=1e-4
    )
    run_py(["geonet_main.py", "--mode=test_pose", f"--dataset_dir={synthetic_kitti}",
            f"--init_ckpt_file={ckpt_file}", "--pose_test_seq=9",
            f"--output_dir={tmp_path / 'p'}"] + tiny_flags(batch_size=1))  # fmt: skip
    from posekit import trajectory

    _, xyz = trajectory.read_tum(str(tmp_path / "p" / "000003.txt"))
    np.testing.assert_allclose(np.array(pose["poses_in_first_frame"])[:, :, 3], xyz, atol=1e-5)
