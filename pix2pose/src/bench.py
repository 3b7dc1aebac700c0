"""Benchmarks (make bench): training images/s, inference time per object instance (network +
PnP) and BOP error evaluation time per pose estimate, on this machine. Writes a flat JSON."""

from __future__ import annotations

import argparse
import functools
import json
import os
import time

import numpy as np

os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")


def train_speed(size: int, width: float, batch: int, steps: int, tune: bool) -> float:
    """Training images/s, with TensorFlow's default convolution-gradient kernels or (tune) with
    the ones training picks (posekit.tfkernels)."""
    import tensorflow as tf

    from posekit import tfkernels
    from src import train

    tf.compat.v1.reset_default_graph()
    A, b = np.eye(3, dtype=np.float32)[None], np.zeros((1, 3), np.float32)
    ph, t = train.build_training_graph(size, width, A, b, batch)
    if tune:
        tfkernels.tune_conv_gradients(tf.compat.v1.get_default_graph())
    rng = np.random.RandomState(0)
    feed = {
        ph["src"]: rng.uniform(-1, 1, (batch, size, size, 3)),
        ph["tgt"]: rng.uniform(-1, 1, (batch, size, size, 3)),
        ph["mask"]: (rng.rand(batch, size, size) > 0.5).astype(np.float32),
        ph["lr"]: 1e-4,
        ph["y_real"]: np.ones((batch, 1)),
        ph["y_fake"]: np.zeros((batch, 1)),
    }
    with tf.compat.v1.Session() as s:
        s.run(tf.compat.v1.global_variables_initializer())
        s.run([t["d_step"]], feed)
        s.run([t["g_step"]], feed)
        start = time.time()
        for _ in range(steps):
            s.run([t["d_step"]], feed)
            s.run([t["g_step"]], feed)
        return batch * steps / (time.time() - start)


def inference_time(size: int, width: float, repeats: int) -> dict:
    """Two-stage estimate of one instance: the real network's forward passes are timed, and
    its outputs are replaced by exact rendered coordinates so that PnP sees a real workload."""
    import tensorflow as tf

    from posekit import bop_metrics
    from posekit.render import Renderer
    from posekit.synth import bop as synth
    from src import model
    from src import xyz as xyzlib
    from src.pose import Pix2PoseEstimator

    m, _ = synth.make_objects()[1]
    nf = xyzlib.norm_factor(m.vertices)
    K = np.array([[1075.0, 0, 360], [0, 1073.0, 270], [0, 0, 1]])  # T-LESS Primesense-like
    R = bop_metrics.axis_angle_matrix([1, 2, 3], 1.0)
    t = np.array([20.0, -10.0, 650.0])
    from posekit import mesh as meshlib

    colored = meshlib.Mesh(m.vertices, m.faces, xyzlib.xyz_colors(m.vertices, nf), m.normals)
    with Renderer(720, 540) as r:
        out = r.render(colored, K, R, t, 10, 5000, unlit=True)
    img = out.rgb.copy()
    img[~out.mask] = 128
    ys, xs = np.nonzero(out.mask)
    box = (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)

    tf.compat.v1.reset_default_graph()
    x = tf.compat.v1.placeholder(tf.float32, [None, size, size, 3])
    net = model.generator(x, False, width, size)
    sess = tf.compat.v1.Session()
    sess.run(tf.compat.v1.global_variables_initializer())
    net_time = [0.0]

    def predict(batch):
        start = time.time()
        sess.run(net, {x: batch})
        net_time[0] += time.time() - start
        rgb = batch * 128.0 + 128.0
        n = rgb / 127.5 - 1.0
        n[np.abs(rgb - 128).max(-1) < 1.0] = 0.0
        return n.astype(np.float32), np.zeros(batch.shape[:3] + (1,), np.float32)

    est = Pix2PoseEstimator(predict, size, K, nf, th_outlier=(0.1, 0.2, 0.3))
    est.estimate(img, box)
    net_time[0] = 0.0
    start = time.time()
    for _ in range(repeats):
        res = est.estimate(img, box)
    total = (time.time() - start) / repeats
    sess.close()
    return {
        "infer_instance_ms": 1000 * total,
        "infer_network_ms": 1000 * net_time[0] / repeats,
        "infer_pnp_and_rest_ms": 1000 * (total - net_time[0] / repeats),
        "infer_check_rot_err_deg": bop_metrics.re(res["R"], R),
    }


def _ms(fn, repeats: int) -> float:
    fn()
    start = time.time()
    for _ in range(repeats):
        fn()
    return 1000 * (time.time() - start) / repeats


def metric_time(repeats: int) -> dict:
    from posekit import bop_metrics
    from posekit.render import Renderer
    from posekit.synth import bop as synth

    objs = synth.make_objects()
    K = np.array([[1075.0, 0, 360], [0, 1073.0, 270], [0, 0, 1]])
    Rg, tg = bop_metrics.axis_angle_matrix([1, 0, 1], 0.7), np.array([0.0, 0, 700])
    Re, te = bop_metrics.axis_angle_matrix([1, 0.1, 1], 0.75), np.array([3.0, -2, 710])
    out = {}
    with Renderer(720, 540) as r:
        for obj_id, name in ((1, "asym"), (3, "contsym")):
            m, syms = objs[obj_id]
            info = synth.model_info(m, syms)
            pts = m.vertices.astype(np.float64)
            sym = bop_metrics.symmetry_transformations(info)
            handle = r.upload(m)
            depth = r.render(handle, K, Rg, tg, 10, 5000).depth

            def render_depth(R, t, h=handle):
                return r.render(h, K, R, t, 10, 5000).depth

            d = info["diameter"]
            out[f"vsd_ms_per_estimate_{name}"] = _ms(
                functools.partial(bop_metrics.vsd, Re, te, Rg, tg, depth, K, render_depth, d),
                repeats,
            )
            out[f"mssd_ms_per_estimate_{name}"] = _ms(
                functools.partial(bop_metrics.mssd, Re, te, Rg, tg, pts, sym), repeats
            )
            out[f"mspd_ms_per_estimate_{name}"] = _ms(
                functools.partial(bop_metrics.mspd, Re, te, Rg, tg, K, pts, sym), repeats
            )
            out[f"model_vertices_{name}"] = int(len(pts))
            out[f"symmetries_{name}"] = len(sym)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--quick", action="store_true", help="fewer repeats (for tests)")
    a = p.parse_args(argv)
    q = a.quick
    res = {}
    for name, size, width, batch, steps in (
        ("paper_128_w1_b4", 128, 1.0, 4, 1 if q else 3),
        ("demo_32_w0.25_b16", 32, 0.25, 16, 2 if q else 20),
    ):
        default = train_speed(size, width, batch, steps, tune=False)
        tuned = train_speed(size, width, batch, steps, tune=True)
        res[f"train_images_per_s_{name}_default_kernels"] = default
        res[f"train_images_per_s_{name}"] = tuned
        res[f"tuned_kernels_speedup_{name}"] = round(tuned / default, 2)
    res.update({k + "_paper_128": v for k, v in inference_time(128, 1.0, 1 if q else 5).items()})
    res.update(metric_time(1 if q else 5))
    res["image_size_for_timing"] = "720x540"
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
    print(json.dumps(res, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
