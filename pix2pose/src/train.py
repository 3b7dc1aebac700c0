"""Pix2Pose training (3_train_pix2pose.py): generator + discriminator, transformer loss, GAN.

Learning rate: the seed README documents Adam with lr 1e-4, but the reference script sets a
per-epoch schedule that overrides it, 1e-3 for epochs 0-6, 1e-4 for 7-9 and 1e-5 for epoch 10
(its BOP-challenge schedule; the seed's log ends at epoch 10 with lr 1e-5, i.e. this one). We
keep that schedule as the default (`lr_schedule` in the config, one value per epoch) because it
is what produced the published weights; 1e-4 throughout can be had by editing the config.
An epoch is min(10 x N / batch, max_iter_per_epoch) iterations (reference: N/50*10, 3000).
Each epoch saves every variable (G, D and Adam state) to pix2pose_weights/NN/pix2pose.EE-LOSS.hdf5;
a rerun resumes from the newest one.
"""

from __future__ import annotations

import os
import time
from typing import Optional

import numpy as np
import tensorflow as tf

from posekit import tfdevice, tfkernels
from posekit.progress import Throughput, format_duration
from src import loss as losslib
from src import model, weights
from src import xyz as xyzlib
from src.dataset import BatchGenerator, Prefetcher


def lr_for_epoch(schedule, epoch: int) -> float:
    return float(schedule[min(epoch, len(schedule) - 1)])


def build_training_graph(
    size: int, width: float, sym_A: np.ndarray, sym_b: np.ndarray, batch: Optional[int] = None
):
    """The placeholders and training ops; a fixed `batch` (training's batches are all full) lets
    posekit.tfkernels see every convolution's shape."""
    ph = {
        "src": tf.compat.v1.placeholder(tf.float32, [batch, size, size, 3], "src"),
        "tgt": tf.compat.v1.placeholder(tf.float32, [batch, size, size, 3], "tgt"),
        "mask": tf.compat.v1.placeholder(tf.float32, [batch, size, size], "mask"),
        "y_real": tf.compat.v1.placeholder(tf.float32, [batch, 1], "y_real"),
        "y_fake": tf.compat.v1.placeholder(tf.float32, [batch, 1], "y_fake"),
        "lr": tf.compat.v1.placeholder(tf.float32, [], "lr"),
    }

    def new_updates(fn):
        before = set(tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS))
        out = fn()
        after = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
        return out, [op for op in after if op not in before]

    (xyz, err), g_updates = new_updates(lambda: model.generator(ph["src"], True, width, size))
    recon_each, _ = losslib.transformer_loss(
        xyz, ph["tgt"], err, ph["mask"], tf.constant(sym_A), tf.constant(sym_b)
    )
    recon = tf.reduce_mean(recon_each)
    d_on_gen = model.discriminator(xyz, True, width, size)  # BN updates of this call are not run
    gen_adv = losslib.bce(d_on_gen, tf.ones_like(d_on_gen))
    g_loss = losslib.LAMBDA_RECON * recon + losslib.LAMBDA_GAN * gen_adv
    d_real, d_up1 = new_updates(lambda: model.discriminator(ph["tgt"], True, width, size))
    d_fake, d_up2 = new_updates(
        lambda: model.discriminator(tf.stop_gradient(xyz), True, width, size)
    )
    d_loss = 0.5 * (losslib.bce(d_real, ph["y_real"]) + losslib.bce(d_fake, ph["y_fake"]))
    g_vars = tf.compat.v1.trainable_variables("generator")
    d_vars = tf.compat.v1.trainable_variables("discriminator")
    with tf.compat.v1.variable_scope("optim_g"):
        with tf.control_dependencies(g_updates):
            g_step = tf.compat.v1.train.AdamOptimizer(ph["lr"], 0.9, 0.999, 1e-8).minimize(
                g_loss, var_list=g_vars
            )
    with tf.compat.v1.variable_scope("optim_d"):
        with tf.control_dependencies(d_up1 + d_up2):
            d_step = tf.compat.v1.train.AdamOptimizer(ph["lr"], 0.9, 0.999, 1e-8).minimize(
                d_loss, var_list=d_vars
            )
    return ph, {
        "xyz": xyz,
        "err": err,
        "recon": recon,
        "gen_adv": gen_adv,
        "g_loss": g_loss,
        "d_loss": d_loss,
        "g_step": g_step,
        "d_step": d_step,
    }


def save_preview(path: str, src, tgt, pred, err, n: int = 6) -> None:
    from PIL import Image

    rows = []
    for i in range(min(n, len(src))):
        e = np.repeat(err[i], 3, axis=2) * 2 - 1
        rows.append(np.concatenate([src[i], tgt[i], pred[i], e], axis=1))
    img = ((np.concatenate(rows, axis=0) + 1) * 127.5).clip(0, 255).astype(np.uint8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(img).save(path)


def train(
    data_path: str,
    output_path: str,
    obj_id: int,
    cfg: dict,
    dataset: str,
    seed: int = 0,
    log_every: int = 10,
):
    """Trains one object's network; returns a summary dict (epochs, losses, images/s)."""
    from src.tools import bop_io

    lay = bop_io.layout(cfg, dataset)
    infos = bop_io.models_info(data_path, lay, "models_render")
    if obj_id not in infos:
        raise ValueError(f"object {obj_id} is not in the models_info of {dataset}")
    nf_path = os.path.join(output_path, "models_xyz", cfg.get("norm_factor_fn", "norm_factor.json"))
    nfs = xyzlib.load_norm_factors(nf_path)
    if obj_id not in nfs:
        raise ValueError(f"{nf_path}: no entry for object {obj_id}; rerun 2_1")
    sym_A, sym_b = xyzlib.symmetry_pool(infos[obj_id]["symmetries_discrete"], nfs[obj_id])
    size, width = int(cfg.get("img_size", 128)), float(cfg.get("width", 1.0))
    batch = int(cfg.get("batch_size", 50))
    max_epoch = int(cfg.get("max_epoch", 10))
    schedule = cfg.get("lr_schedule", [1e-3] * 7 + [1e-4] * 3 + [1e-5])
    flip = float(cfg.get("label_flip", 0.2))
    bg_dir = cfg.get("bg_dir")
    if bg_dir and not os.path.isabs(bg_dir):
        bg_dir = os.path.join(data_path, bg_dir)
    if bg_dir and not os.path.isdir(bg_dir):
        print(f"background folder {bg_dir} not found: using procedural backgrounds")
        bg_dir = None
    gen = BatchGenerator(
        os.path.join(output_path, "train_xyz", f"{obj_id:02d}"), bg_dir, batch, size, seed
    )
    iters = max(1, min(int(gen.n_data / batch * 10), int(cfg.get("max_iter_per_epoch", 3000))))
    weight_dir = os.path.join(output_path, "pix2pose_weights", f"{obj_id:02d}")
    os.makedirs(weight_dir, exist_ok=True)

    tf.compat.v1.reset_default_graph()
    tf.compat.v1.set_random_seed(seed)
    rng = np.random.RandomState(seed + 1)
    ph, t = build_training_graph(size, width, sym_A, sym_b, batch)
    config = tfdevice.session_config()
    if cfg.get("tune_conv_kernels", True):
        graph = tf.compat.v1.get_default_graph()
        print(tfkernels.tune_conv_gradients(graph, config).summary(), flush=True)
    summary = {
        "obj_id": obj_id,
        "iters_per_epoch": iters,
        "n_views": gen.n_data,
        "generator_params": model.count_params("generator"),
        "discriminator_params": model.count_params("discriminator"),
    }
    feeder = Prefetcher(gen)
    try:
        with tf.compat.v1.Session(config=config) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            all_vars = tf.compat.v1.global_variables()
            epoch = 0
            latest = weights.latest_checkpoint(weight_dir)
            if latest is not None:
                weights.assign_variables(latest[1], sess, all_vars)
                epoch = latest[0]
                print(f"resuming from {latest[1]} (epoch {epoch})")
            print(
                f"obj {obj_id:02d}: {gen.n_data} training views, {iters} iterations/epoch, "
                f"epochs {epoch}..{max_epoch}, batch {batch}, size {size}, width {width}, "
                f"{len(sym_A)} symmetric targets, device {tfdevice.device_name(config)}, "
                f"G {summary['generator_params']:,} / D {summary['discriminator_params']:,} params"
            )
            pre_loss = float("inf")
            total_iters = (max_epoch + 1 - epoch) * iters
            done, last, t_start = 0, None, time.time()
            meter = Throughput(total_iters, batch)
            while epoch <= max_epoch:
                lr = lr_for_epoch(schedule, epoch)
                recons = []
                for it in range(iters):
                    src, tgt, mask = feeder.next()
                    n = len(src)
                    y_real = rng.uniform(0.9, 1.0, (n, 1))
                    y_fake = rng.uniform(0.0, 0.1, (n, 1))
                    if rng.rand() < flip:  # label flipping, as the reference's get_disc_batch
                        y_real, y_fake = y_fake, y_real
                    feed = {
                        ph["src"]: src,
                        ph["tgt"]: tgt,
                        ph["mask"]: mask,
                        ph["lr"]: lr,
                        ph["y_real"]: y_real,
                        ph["y_fake"]: y_fake,
                    }
                    d_loss, _ = sess.run([t["d_loss"], t["d_step"]], feed)
                    recon, gen_adv, _ = sess.run([t["recon"], t["gen_adv"], t["g_step"]], feed)
                    recons.append(recon)
                    done += 1
                    if it % log_every == 0 or it == iters - 1:
                        ips, _, eta = meter.update(done)
                        print(
                            f"Epoch{epoch:02d}-Iter{it:03d}/{iters:03d}:"
                            f"Mean-[{np.mean(recons):.5f}], "
                            f"Disc-[{d_loss:.4f}], Recon-[{recon:.4f}], Gen-[{gen_adv:.4f}]],"
                            f"lr={lr:.6f} "
                            f"| {ips:.1f} img/s, ETA {format_duration(eta)}",
                            flush=True,
                        )
                    last = (src, tgt)
                mean_loss = float(np.mean(recons))
                epoch += 1
                path = os.path.join(weight_dir, f"pix2pose.{epoch:02d}-{mean_loss:.4f}.hdf5")
                note = "loss improved" if mean_loss < pre_loss else "loss was not improved"
                pre_loss = min(pre_loss, mean_loss)
                weights.save_variables(
                    path,
                    sess,
                    all_vars,
                    {"epoch": epoch, "img_size": size, "width": width, "obj_id": obj_id},
                )
                pred, err = sess.run([t["xyz"], t["err"]], {ph["src"]: last[0]})
                save_preview(
                    os.path.join(weight_dir, "val_img", f"pix2pose_{epoch:02d}.png"),
                    last[0],
                    last[1],
                    pred,
                    err,
                )
                print(f"{note}: {mean_loss:.4f}, saved {path}", flush=True)
                summary["last_recon"] = mean_loss
            summary["train_images_per_s"] = (
                done * batch / max(time.time() - t_start, 1e-9) if done else 0.0
            )
            summary["epochs"] = epoch
    finally:
        feeder.close()
    print("Train finished")
    return summary


def export_generator(weight_path: str, out_path: str, size: int, width: float) -> str:
    """inference.hdf5: the generator's weights only (4_convert_weights_inference.py)."""
    tf.compat.v1.reset_default_graph()
    x = tf.compat.v1.placeholder(tf.float32, [None, size, size, 3])
    model.generator(x, False, width, size)
    g_vars = tf.compat.v1.global_variables("generator")
    values, attrs = weights.load(weight_path)
    missing = [v.name.split(":")[0] for v in g_vars if v.name.split(":")[0] not in values]
    if missing:
        raise ValueError(f"{weight_path}: lacks generator variables, e.g. {missing[0]}")
    weights.save(
        out_path,
        {v.name: values[v.name.split(":")[0]] for v in g_vars},
        {"img_size": size, "width": width, "source": os.path.basename(weight_path)},
    )
    return out_path
