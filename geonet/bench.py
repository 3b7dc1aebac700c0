"""GeoNet benchmark (`bash scripts/run_bench.sh OUT_JSON`): training throughput of the default
(paper) configuration, its FLOP utilisation against this machine's measured fp32 GEMM rate, and
the input pipeline's throughput against what training consumes. All ratios come from one run.

- GEMM rate: TensorFlow float32 matmul of 2048 x 2048 matrices (2 n^3 FLOP each), the faster
  of the oneDNN and Eigen kernels where TF is Intel's build (see gemm_rate).
- Model FLOP: TensorFlow's profiler count of the training step (forward, backward and Adam) of
  train_rigid at the default 128 x 416, seq_length 3, batch 4, ResNet-50 DispNet; achieved
  FLOP/s = that count / measured step time (inputs held in memory: the model alone). The step is
  timed twice: with TensorFlow's default convolution-gradient kernels and with the ones training
  picks (posekit.tfkernels, --tune_conv_kernels); utilisation is given for the latter.
- Input pipeline: batches/s of data_loader.DataLoader (JPEG decode + augmentation) on a
  prepared data set of random frames in the real format, with the default thread count.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import tensorflow as tf
from tensorflow.python import pywrap_tensorflow

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from data_loader import DataLoader  # noqa: E402
from geonet_config import config  # noqa: E402
from geonet_model import GeoNetModel  # noqa: E402
from utils import multi_scale_intrinsics  # noqa: E402

from posekit import kitti, tfdevice, tfkernels  # noqa: E402


def tf_gemm_rate(n=2048, seconds=5.0):
    with tf.Graph().as_default():
        a = tf.Variable(tf.random.normal([n, n]))
        b = tf.Variable(tf.random.normal([n, n]))
        c = tf.reduce_sum(tf.matmul(a, b))
        with tf.compat.v1.Session(config=tfdevice.session_config()) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            sess.run(c)
            runs, start = 0, time.time()
            while time.time() - start < seconds:
                sess.run(c)
                runs += 1
            return 2.0 * n**3 * runs / (time.time() - start)


def gemm_rate():
    """The machine's fp32 GEMM rate through TensorFlow. In Intel's oneDNN build the MatMul kernel
    is slower here than the plain build's (63 against 174-200 GFLOP/s), which would flatter the
    ratio, so that build also times Eigen's kernel (TF_DISABLE_MKL=1, in a child process because
    TF reads it at start) and the faster rate counts."""
    rate = tf_gemm_rate()
    if pywrap_tensorflow.IsMklEnabled():
        code = "import bench; print(bench.tf_gemm_rate())"
        env = dict(os.environ, TF_DISABLE_MKL="1", TF_CPP_MIN_LOG_LEVEL="2")
        out = subprocess.run([sys.executable, "-c", code], env=env, check=True, text=True,
                             stdout=subprocess.PIPE, cwd=HERE).stdout  # fmt: skip
        rate = max(rate, float(out.split()[-1]))
    return rate


def training_rate(cfg, steps, tune):
    """(seconds per step, FLOP per step, the tuning's log line or None)."""
    with tf.Graph().as_default() as graph:
        rng = np.random.default_rng(0)
        b, h, w = cfg.batch_size, cfg.img_height, cfg.img_width
        tgt = tf.constant(rng.integers(0, 255, (b, h, w, 3)).astype(np.uint8))
        src = tf.constant(rng.integers(0, 255, (b, h, w, 3 * cfg.num_source)).astype(np.uint8))
        K = np.array([[0.58 * w, 0, w / 2], [0, 1.92 * h, h / 2], [0, 0, 1]], np.float32)
        intrinsics = multi_scale_intrinsics(tf.constant(np.tile(K, (b, 1, 1))), cfg.num_scales)
        model = GeoNetModel(cfg, tgt, src, intrinsics)
        update_ops = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
        with tf.control_dependencies(update_ops):
            train_op = tf.compat.v1.train.AdamOptimizer(cfg.learning_rate).minimize(
                model.total_loss
            )
        opts = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
        opts["output"] = "none"
        flops = tf.compat.v1.profiler.profile(graph, options=opts).total_float_ops
        session_config = tfdevice.session_config()
        tuning = tfkernels.tune_conv_gradients(graph, session_config) if tune else None
        with tf.compat.v1.Session(config=session_config) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            sess.run(train_op)  # warm-up: allocation and autotuning
            start = time.time()
            for _ in range(steps):
                sess.run(train_op)
            per_step = (time.time() - start) / steps
    return per_step, flops, tuning and tuning.summary()


def write_prepared(root, cfg, n_samples):
    import cv2

    rng = np.random.default_rng(0)
    os.makedirs(os.path.join(root, "00"))
    K = np.array([[241.7, 0, 204.2], [0, 246.3, 59.0], [0, 0, 1]])
    entries = []
    for i in range(n_samples):
        # smooth random frames compress like photographs rather than like noise
        small = rng.integers(0, 255, (cfg.img_height // 8, cfg.img_width * cfg.seq_length // 8, 3))
        img = cv2.resize(small.astype(np.uint8), (cfg.img_width * cfg.seq_length, cfg.img_height))
        cv2.imwrite(os.path.join(root, "00", f"{i:06d}.jpg"), img)
        kitti.write_cam_txt(os.path.join(root, "00", f"{i:06d}_cam.txt"), K)
        entries.append(("00", f"{i:06d}"))
    kitti.write_split(os.path.join(root, "train.txt"), entries)


def pipeline_rate(cfg, batches):
    root = tempfile.mkdtemp(prefix="geonet_bench_")
    try:
        write_prepared(root, cfg, 64)
        with tf.Graph().as_default():
            nxt = DataLoader(cfg.replace(dataset_dir=root)).load_train_batch()
            with tf.compat.v1.Session(config=tfdevice.session_config()) as sess:
                for _ in range(3):
                    sess.run(nxt)
                start = time.time()
                for _ in range(batches):
                    sess.run(nxt)
                return batches / (time.time() - start)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="output JSON")
    p.add_argument("--steps", type=int, default=3, help="timed training steps")
    p.add_argument("--pipeline_batches", type=int, default=40)
    args = p.parse_args(argv)
    cfg = config(mode="train_rigid")  # the paper's defaults
    gemm = gemm_rate()
    print(f"fp32 GEMM: {gemm / 1e9:.1f} GFLOP/s", flush=True)
    default_step, _, _ = training_rate(cfg, args.steps, tune=False)
    print(f"training, TensorFlow's default kernels: {default_step:.2f} s/step", flush=True)
    per_step, flops, tuning = training_rate(cfg, args.steps, tune=True)
    print(tuning, flush=True)
    achieved = flops / per_step
    train_images = cfg.batch_size / per_step
    print(f"training: {per_step:.2f} s/step, {train_images:.2f} images/s, "
          f"{flops / 1e9:.0f} GFLOP/step, {achieved / 1e9:.1f} GFLOP/s", flush=True)  # fmt: skip
    batches = pipeline_rate(cfg, args.pipeline_batches)
    result = {
        "config": "train_rigid resnet50 128x416 seq_length 3 batch 4 (paper defaults)",
        "gemm_gflops": round(gemm / 1e9, 2),
        "conv_kernels": tuning,
        "train_step_seconds_default_kernels": round(default_step, 3),
        "train_step_seconds": round(per_step, 3),
        "tuned_kernels_speedup": round(default_step / per_step, 2),
        "train_images_per_s": round(train_images, 3),
        "model_gflop_per_step": round(flops / 1e9, 1),
        "model_gflops_achieved": round(achieved / 1e9, 2),
        "flop_utilisation": round(achieved / gemm, 3),
        "pipeline_images_per_s": round(batches * cfg.batch_size, 2),
        "pipeline_over_training": round(batches * cfg.batch_size / train_images, 2),
    }
    print(json.dumps(result, indent=2))
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
    main()
