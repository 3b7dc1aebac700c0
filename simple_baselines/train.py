"""Train simple_baselines (PoseResNet) on COCO person keypoints.

Adam, lr 1e-3 dropped x0.1 at epochs 90 and 120 of 140, batch 64 per device, graph mode.
Single device, or data-parallel under msrun / a rank table (Ascend) / mpirun (GPU) with
--run_distribute True: each rank reads its own shard, gradients are averaged, rank 0 alone writes
checkpoints. Outputs in --train_url: checkpoints, config.json.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys

import mindspore as ms
import numpy as np
from mindspore import nn
from src import checkpoint
from src.config import get_config, save_config
from src.dataset import create_dataset
from src.network_with_loss import JointsMSELoss, PoseResNetWithLoss
from src.pose_resnet import count_params, get_pose_net
from src.pretrained import load_imagenet_backbone

from posekit import modelarts
from posekit.progress import Throughput, format_duration


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data_url", default=None, help="COCO root (default: config DATASET.ROOT)")
    p.add_argument("--train_url", default="./model", help="output folder for checkpoints")
    p.add_argument("--device_target", default="Ascend", choices=["Ascend", "GPU", "CPU"])
    p.add_argument("--device_id", type=int, default=int(os.getenv("DEVICE_ID", "0")))
    p.add_argument("--run_distribute", type=ast.literal_eval, default=False)
    p.add_argument("--enable_modelarts", type=ast.literal_eval, default=False)
    p.add_argument("--pretrained", default=None, help="ImageNet ResNet weights (.ckpt or .pth)")
    p.add_argument("--resume", default=None, help="checkpoint to resume, or 'auto' (latest)")
    p.add_argument("--epochs", type=int, default=None, help="override TRAIN.END_EPOCH")
    p.add_argument("--batch_size", type=int, default=None, help="override TRAIN.BATCH_SIZE")
    p.add_argument("--amp_level", default=None, help="O0/O2/O3; default O0 on CPU, O2 else")
    p.add_argument("--log_interval", type=int, default=20, help="steps between log lines")
    p.add_argument("--max_steps", type=int, default=None, help="stop after this many steps")
    p.add_argument("--config_file", default=None, help="json config (e.g. a run's config.json)")
    p.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    return p.parse_args(argv)


def get_lr(total_epochs, steps_per_epoch, lr, factor, drop_epochs):
    """Per-step learning rate from epoch 0; Adam indexes it by its global step (kept on resume)."""
    epoch = np.arange(total_epochs * steps_per_epoch) // steps_per_epoch
    drops = np.sum(epoch[:, None] >= np.asarray(drop_epochs)[None, :], axis=1)
    return (lr * factor**drops).astype(np.float32)


def setup_device(args):
    """-> (rank, group size). Graph mode on the requested device; communication if distributed."""
    ms.set_context(mode=ms.GRAPH_MODE)
    if args.run_distribute:
        ms.set_device(args.device_target)
        from mindspore.communication import get_group_size, get_rank, init

        init()
        rank, group = get_rank(), get_group_size()
        ms.set_auto_parallel_context(
            parallel_mode=ms.ParallelMode.DATA_PARALLEL, gradients_mean=True, device_num=group
        )
        return rank, group
    ms.set_device(args.device_target, args.device_id if args.device_target != "CPU" else None)
    return 0, 1


def weights_digest(net):
    """Sum of |w| over trainable weights: equal on every rank if data-parallel kept them in sync."""
    return float(sum(np.abs(p.asnumpy()).astype(np.float64).sum() for p in net.trainable_params()))


def main(argv=None):
    args = parse_args(argv)
    cfg = get_config(args.config_file, args.set)
    if args.epochs is not None:
        cfg.TRAIN.END_EPOCH = args.epochs
    if args.batch_size is not None:
        cfg.TRAIN.BATCH_SIZE = args.batch_size
    if args.pretrained is not None:
        cfg.MODEL.PRETRAINED = args.pretrained
    data_dir, out_dir = modelarts.job_dirs(
        args.enable_modelarts, args.data_url or cfg.DATASET.ROOT, args.train_url
    )
    rank, group = setup_device(args)
    ms.set_seed(cfg.GENERAL.TRAIN_SEED)
    os.makedirs(out_dir, exist_ok=True)
    existing = checkpoint.list_checkpoints(out_dir)
    if existing and args.resume is None:
        sys.exit(
            f"{out_dir} already holds checkpoints ({os.path.basename(existing[-1])}); "
            "pass --resume auto to continue that run or choose another --train_url"
        )

    dataset, records = create_dataset(
        cfg, data_dir, train=True, batch_size=cfg.TRAIN.BATCH_SIZE, rank=rank, group_size=group
    )
    steps_per_epoch = dataset.get_dataset_size()
    if steps_per_epoch == 0:
        sys.exit(
            f"{len(records)} training people over {group} rank(s) make no full batch of "
            f"{cfg.TRAIN.BATCH_SIZE}; lower --batch_size"
        )
    print(
        f"rank {rank}/{group}: shard {rank} of {group}, {steps_per_epoch} steps of "
        f"{cfg.TRAIN.BATCH_SIZE} per epoch from {len(records)} people",
        flush=True,
    )

    net = get_pose_net(cfg)
    if cfg.MODEL.INIT_WEIGHTS and cfg.MODEL.PRETRAINED:
        load_imagenet_backbone(net.backbone, cfg.MODEL.PRETRAINED)
        print(f"loaded ImageNet backbone weights from {cfg.MODEL.PRETRAINED}", flush=True)
    print(f"PoseResNet-{cfg.NETWORK.NUM_LAYERS}: {count_params(net) / 1e6:.2f}M parameters")
    end_epoch = cfg.TRAIN.END_EPOCH
    lr = get_lr(end_epoch, steps_per_epoch, cfg.TRAIN.LR, cfg.TRAIN.LR_FACTOR, cfg.TRAIN.LR_STEP)
    opt = nn.Adam(net.trainable_params(), learning_rate=ms.Tensor(lr))
    amp_level = args.amp_level or ("O0" if args.device_target == "CPU" else "O2")
    kwargs = {}
    if amp_level != "O0":
        kwargs["loss_scale_manager"] = ms.amp.DynamicLossScaleManager()
    train_step = ms.amp.build_train_network(
        PoseResNetWithLoss(net, JointsMSELoss(cfg.LOSS.USE_TARGET_WEIGHT)),
        opt,
        level=amp_level,
        **kwargs,
    )
    train_step.set_train()

    begin_epoch = cfg.TRAIN.BEGIN_EPOCH
    if args.resume:
        path = args.resume
        if path == "auto":
            path = existing[-1] if existing else None
        if path:
            params = ms.load_checkpoint(path)
            if "epoch" not in params:
                sys.exit(f"{path} is not a training checkpoint of train.py (no epoch recorded)")
            begin_epoch = int(params.pop("epoch"))
            params.pop("step", None)
            # the schedule is rebuilt from the config (END_EPOCH may have grown); Adam's
            # global step, restored here, picks the right entry
            params.pop("learning_rate", None)
            ms.load_param_into_net(train_step, params)
            print(f"resumed from {path} at epoch {begin_epoch}", flush=True)
    if rank == 0:
        save_config(cfg, os.path.join(out_dir, "config.json"))

    epochs = end_epoch - begin_epoch
    total_steps = epochs * steps_per_epoch
    if args.max_steps is not None:
        total_steps = min(total_steps, args.max_steps)
    batch = cfg.TRAIN.BATCH_SIZE
    iterator = dataset.create_tuple_iterator(num_epochs=max(epochs, 1))
    written = []
    done, meter = 0, Throughput(total_steps, batch * group)
    for epoch in range(begin_epoch, end_epoch):
        if done >= total_steps:
            break
        for i, (image, target, weight) in enumerate(iterator):
            out = train_step(image, target, weight)
            loss = out[0] if isinstance(out, tuple) else out
            done += 1
            if done % args.log_interval == 0 or i + 1 == steps_per_epoch or done == total_steps:
                loss_value = float(loss.asnumpy())
                speed, _, eta = meter.update(done)
                step_lr = lr[min(epoch * steps_per_epoch + i, len(lr) - 1)]
                print(
                    f"epoch {epoch + 1}/{end_epoch} step {i + 1}/{steps_per_epoch} "
                    f"loss {loss_value:.7f} lr {step_lr:.1e} "
                    f"{speed:.1f} img/s ETA {format_duration(eta)}",
                    flush=True,
                )
                if not np.isfinite(loss_value):
                    sys.exit(f"loss is {loss_value} at epoch {epoch + 1} step {i + 1}: stopping")
            if done >= total_steps:
                break
        finished = epoch + 1
        last = finished == end_epoch or done >= total_steps
        if rank == 0 and (finished % cfg.TRAIN.SAVE_CKPT_EPOCH == 0 or last):
            path = os.path.join(out_dir, checkpoint.checkpoint_name(finished, steps_per_epoch))
            checkpoint.save(train_step, path, finished, done)
            written.append(path)
            print(f"saved {path}", flush=True)
            while len(written) > cfg.TRAIN.KEEP_CKPT_MAX:
                os.remove(written.pop(0))  # only checkpoints this run wrote
    print(f"rank {rank}: final weights digest {weights_digest(net):.6f}", flush=True)
    if rank == 0:
        if args.enable_modelarts:
            modelarts.upload(out_dir, args.train_url)


if __name__ == "__main__":
    main()
