"""GeoNet entry point: `python geonet_main.py --mode=MODE ...` (the reference's command lines).

Modes: train_rigid (DepthNet + PoseNet), train_flow (ResFlowNet on top of a rigid checkpoint, or
a direct flow net), test_depth, test_pose, test_flow. Training resumes from the latest
checkpoint in --checkpoint_dir; an interrupted run (Ctrl-C, SIGTERM) saves one before it stops.
"""

import os
import random
import signal
import sys

import distributed
import numpy as np
import tensorflow as tf
from data_loader import DataLoader
from geonet_config import OPTIONS, config, define_flags
from geonet_model import GeoNetModel

from posekit import tfdevice, tfkernels
from posekit.progress import Throughput, format_duration

FLAGS = tf.compat.v1.flags.FLAGS
define_flags(tf.compat.v1.flags)


def log(msg):
    print(msg, flush=True)


class Interrupted(Exception):
    pass


def _raise_interrupted(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def variables_to_train_and_restore(cfg):
    """Which variables a mode trains, and which an --init_ckpt_file initialises."""
    if cfg.mode == "train_flow" and cfg.flownet_type == "residual":
        # DepthNet and PoseNet come from a train_rigid checkpoint and stay fixed
        train_vars = tf.compat.v1.trainable_variables("flow_net")
        restore_vars = [
            v
            for v in tf.compat.v1.global_variables()
            if v.op.name.split("/")[0] in ("depth_net", "pose_net")
        ]
        update_ops = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS, "flow_net")
    else:
        train_vars = tf.compat.v1.trainable_variables()
        restore_vars = tf.compat.v1.model_variables()
        update_ops = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
    return train_vars, restore_vars, update_ops


def build_summaries(model, cfg):
    summaries = [tf.compat.v1.summary.scalar("total_loss", model.total_loss)]
    summaries += [tf.compat.v1.summary.scalar(k, v) for k, v in model.losses.items()]
    summaries.append(
        tf.compat.v1.summary.image("target", model.deprocess_image(model.tgt_image), 2)
    )
    if cfg.add_dispnet:
        disp = model.pred_disp[0][: cfg.batch_size]
        disp = disp / tf.reduce_max(disp, axis=[1, 2, 3], keepdims=True)
        summaries.append(tf.compat.v1.summary.image("disparity", disp, 2))
    return tf.compat.v1.summary.merge(summaries)


def learning_rate(cfg, global_step):
    """Constant, as in the paper, unless --lr_drop_step: then / 10 from that step on (short CPU
    runs at a high rate settle that way)."""
    if cfg.lr_drop_step <= 0:
        return cfg.learning_rate
    return tf.compat.v1.train.piecewise_constant(
        global_step, [cfg.lr_drop_step], [cfg.learning_rate, 0.1 * cfg.learning_rate]
    )


class TrainingGraph:
    """Everything a training run needs, built in the current default graph."""

    def __init__(self, cfg, dist):
        loader = DataLoader(cfg, dist.rank, dist.size)
        tgt_image, src_image_stack, intrinsics = loader.load_train_batch()
        self.model = GeoNetModel(cfg, tgt_image, src_image_stack, intrinsics)
        train_vars, self.restore_vars, update_ops = variables_to_train_and_restore(cfg)
        self.train_vars = train_vars
        self.global_step = tf.compat.v1.train.get_or_create_global_step()
        optimizer = dist.wrap_optimizer(
            tf.compat.v1.train.AdamOptimizer(learning_rate(cfg, self.global_step), cfg.beta1)
        )
        with tf.control_dependencies(update_ops):
            self.train_op = optimizer.minimize(
                self.model.total_loss, self.global_step, var_list=train_vars
            )
        self.saver = tf.compat.v1.train.Saver(
            tf.compat.v1.global_variables(), max_to_keep=cfg.max_to_keep
        )
        self.summary_op = build_summaries(self.model, cfg)
        self.broadcast = dist.broadcast_op()
        self.n_params = int(sum(np.prod(v.get_shape().as_list()) for v in train_vars))

    def initialise(self, sess, cfg):
        """Resume from the latest checkpoint, else initialise (and load --init_ckpt_file)."""
        latest = tf.train.latest_checkpoint(cfg.checkpoint_dir) if cfg.checkpoint_dir else None
        if latest:
            self.saver.restore(sess, latest)
            log(f"resumed from {latest}")
        else:
            sess.run(tf.compat.v1.global_variables_initializer())
            if cfg.init_ckpt_file:
                tf.compat.v1.train.Saver(self.restore_vars).restore(sess, cfg.init_ckpt_file)
                log(f"initialised {len(self.restore_vars)} variables from {cfg.init_ckpt_file}")
        sess.run(self.broadcast)
        return int(sess.run(self.global_step))


def train(cfg):
    dist = distributed.make(cfg.distributed)
    tf.compat.v1.set_random_seed(cfg.seed)
    np.random.seed(cfg.seed + dist.rank)
    random.seed(cfg.seed + dist.rank)
    if not cfg.checkpoint_dir:
        raise ValueError("--checkpoint_dir is required for training")
    if dist.is_chief:
        os.makedirs(cfg.checkpoint_dir, exist_ok=True)

    with tf.Graph().as_default():
        g = TrainingGraph(cfg, dist)
        model, saver = g.model, g.saver
        session_config = tfdevice.session_config(
            intra_op_threads=cfg.intra_op_threads, inter_op_threads=cfg.inter_op_threads
        )
        if cfg.tune_conv_kernels:
            graph = tf.compat.v1.get_default_graph()
            log(tfkernels.tune_conv_gradients(graph, session_config).summary())
        with tf.compat.v1.Session(config=session_config) as sess:
            start_step = g.initialise(sess, cfg)
            writer = None
            if dist.is_chief:
                writer = tf.compat.v1.summary.FileWriter(cfg.checkpoint_dir, sess.graph)
                log(
                    f"mode {cfg.mode} | device {tfdevice.device_name(session_config)} | workers "
                    f"{dist.size} ({dist.name}) | trainable parameters {g.n_params} | steps "
                    f"{start_step} -> {cfg.max_steps}"
                )
            fetch_losses = {"total": model.total_loss, **model.losses}
            ckpt_prefix = os.path.join(cfg.checkpoint_dir, "model")
            previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
            for sig in previous:
                signal.signal(sig, _raise_interrupted)
            try:
                meter = Throughput(cfg.max_steps, cfg.batch_size * dist.size, start_step)
                for step in range(start_step + 1, cfg.max_steps + 1):
                    # The losses are fetched every step (free: the step computes them) because
                    # TF builds a new executor, about 15 s here, for each new set of fetches.
                    fetches = {"train": g.train_op, "losses": fetch_losses}
                    want_log = step % cfg.log_freq == 0 or step == cfg.max_steps
                    if writer is not None and step % cfg.summary_freq == 0:
                        fetches["summary"] = g.summary_op
                    out = sess.run(fetches)
                    if "summary" in out:
                        writer.add_summary(out["summary"], step)
                    if want_log and dist.is_chief:
                        rate, per_iter, eta = meter.update(step)
                        losses = out["losses"]
                        parts = " ".join(f"{k} {v:.4f}" for k, v in losses.items() if k != "total")
                        log(
                            f"Iteration: [{step:7d}] | Time: {per_iter:.4f}s/iter | Loss: "
                            f"{losses['total']:.3f} | {parts} | {rate:.1f} images/s | ETA "
                            f"{format_duration(eta)}"
                        )
                    if dist.is_chief and step % cfg.save_ckpt_freq == 0:
                        saver.save(sess, ckpt_prefix, global_step=step)
            except Interrupted as exc:
                if dist.is_chief:
                    done = int(sess.run(g.global_step))
                    saver.save(sess, ckpt_prefix, global_step=done)
                    log(f"{exc}: saved model-{done}; rerun the same command to resume")
                raise SystemExit(130) from None
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
            if dist.is_chief:
                final = int(sess.run(g.global_step))
                path = saver.save(sess, ckpt_prefix, global_step=final)
                log(f"finished at step {final}: {path}")
                writer.close()


def main(_):
    cfg = config(**{name: getattr(FLAGS, name) for name in OPTIONS})
    if cfg.mode in ("train_rigid", "train_flow"):
        train(cfg)
    elif cfg.mode == "test_depth":
        from geonet_test_depth import test_depth

        test_depth(cfg)
    elif cfg.mode == "test_pose":
        from geonet_test_pose import test_pose

        test_pose(cfg)
    elif cfg.mode == "test_flow":
        from geonet_test_flow import test_flow

        test_flow(cfg)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
    try:
        tf.compat.v1.app.run(main)
    except (ValueError, FileNotFoundError) as exc:
        sys.exit(f"geonet_main.py: {exc}")
