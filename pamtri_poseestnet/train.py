"""Train PAMTRI PoseEstNet (HRNet-W32) on VeRi keypoints.

python train.py --cfg config.yaml --data_dir data/veri [--pre_trained True --pre_ckpt_path
PoseEstNet_pretrained.ckpt] [--device_target GPU] [--distribute True under msrun/mpirun/rank table]

Adam lr 1e-3, x0.1 at epochs 170 and 200 of 210, batch 32 per device, graph mode. Data-parallel
with --distribute True: each rank reads its own shard, gradients are averaged, rank 0 alone writes
checkpoints (PoseEstNet-<epoch>_<steps>.ckpt, with the optimizer state for --resume).
"""

from __future__ import annotations

import argparse
import ast
import os
import sys

import mindspore as ms
import numpy as np
from mindspore import nn
from src.config import load_config, save_config
from src.dataset.dataset import create_dataset
from src.loss.loss import NetWithLoss
from src.model.HRNet import count_params, get_pose_net
from src.scheduler.lr import get_lr
from src.utils import checkpoint
from src.utils.device import set_device

from posekit import modelarts
from posekit.progress import Throughput, format_duration


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cfg", default="config.yaml", help="YAML config (default: config.yaml)")
    p.add_argument("--data_dir", default=None, help="VeRi root with annot/ and images/")
    p.add_argument("--device_target", default="Ascend", choices=["Ascend", "GPU", "CPU"])
    p.add_argument("--device_id", type=int, default=int(os.getenv("DEVICE_ID", "0")))
    p.add_argument("--distribute", type=ast.literal_eval, default=False)
    p.add_argument("--pre_trained", type=ast.literal_eval, default=False)
    p.add_argument(
        "--pre_ckpt_path", default="", help="ImageNet HRNet .ckpt (src/utils/pthtockpt.py)"
    )
    p.add_argument("--ckpt_dir", default="./ckpt", help="where checkpoints are written")
    p.add_argument("--resume", default=None, help="checkpoint to continue, or 'auto' (latest)")
    p.add_argument("--epochs", type=int, default=None, help="override TRAIN.END_EPOCH")
    p.add_argument("--batch_size", type=int, default=None, help="override TRAIN.BATCH_SIZE")
    p.add_argument("--max_steps", type=int, default=None, help="stop after this many steps")
    p.add_argument("--log_interval", type=int, default=20, help="steps between log lines")
    p.add_argument("--amp_level", default=None, help="O0/O2/O3 (default O0 on CPU, O2 else)")
    p.add_argument("--enable_modelarts", type=ast.literal_eval, default=False)
    p.add_argument("--data_url", default=None, help="ModelArts: data location (obs://...)")
    p.add_argument("--train_url", default=None, help="ModelArts: output location (obs://...)")
    p.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    return p.parse_args(argv)


def setup_device(args):
    """-> (rank, group size): graph mode on the device, communication when distributed."""
    ms.set_context(mode=ms.GRAPH_MODE)
    if args.distribute:
        ms.set_device(args.device_target)
        from mindspore.communication import get_group_size, get_rank, init

        init()
        rank, group = get_rank(), get_group_size()
        ms.set_auto_parallel_context(
            parallel_mode=ms.ParallelMode.DATA_PARALLEL, gradients_mean=True, device_num=group
        )
        return rank, group
    set_device(args.device_target, args.device_id)
    return 0, 1


def weights_digest(net):
    """Sum of |w| over the weights: equal on every rank when data-parallel keeps them in sync."""
    return float(sum(np.abs(p.asnumpy()).astype(np.float64).sum() for p in net.trainable_params()))


def build_optimizer(net, cfg, lr):
    """Adam; weight decay (TRAIN.WD, 0 by default as HRNet) only on conv weights."""
    params = net.trainable_params()
    if cfg.TRAIN.WD <= 0:
        return nn.Adam(params, learning_rate=lr)
    decayed = [p for p in params if not any(k in p.name for k in ("gamma", "beta", "bias"))]
    rest = [p for p in params if p not in decayed]
    groups = [
        {"params": decayed, "weight_decay": cfg.TRAIN.WD},
        {"params": rest, "weight_decay": 0.0},
        {"order_params": params},
    ]
    return nn.Adam(groups, learning_rate=lr)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.cfg, args.set)
    if args.epochs is not None:
        cfg.TRAIN.END_EPOCH = args.epochs
    if args.batch_size is not None:
        cfg.TRAIN.BATCH_SIZE = args.batch_size
    data_url = args.data_url or args.data_dir or cfg.DATASET.ROOT
    out_url = args.train_url or args.ckpt_dir
    data_dir, out_dir = modelarts.job_dirs(args.enable_modelarts, data_url, out_url)
    rank, group = setup_device(args)
    ms.set_seed(cfg.GENERAL.SEED)
    os.makedirs(out_dir, exist_ok=True)
    existing = checkpoint.list_checkpoints(out_dir)
    if existing and args.resume is None:
        sys.exit(
            f"{out_dir} already holds checkpoints ({os.path.basename(existing[-1])}); pass "
            "--resume auto to continue that run, or choose another --ckpt_dir"
        )

    dataset, labels, _ = create_dataset(
        cfg, data_dir, train=True, batch_size=cfg.TRAIN.BATCH_SIZE, rank=rank, group_size=group
    )
    steps_per_epoch = dataset.get_dataset_size()
    if steps_per_epoch == 0:
        sys.exit(
            f"{len(labels)} training images over {group} rank(s) make no full batch of "
            f"{cfg.TRAIN.BATCH_SIZE}; lower --batch_size"
        )
    print(
        f"rank {rank}/{group}: shard {rank} of {group}, {steps_per_epoch} steps of "
        f"{cfg.TRAIN.BATCH_SIZE} per epoch from {len(labels)} images in {data_dir}",
        flush=True,
    )

    net = get_pose_net(cfg)
    if args.pre_trained:
        if not args.pre_ckpt_path:
            sys.exit(
                "--pre_trained True needs --pre_ckpt_path (make it with src/utils/pthtockpt.py)"
            )
        from src.utils.pthtockpt import load_pretrained

        loaded = load_pretrained(net, args.pre_ckpt_path)
        print(f"loaded {loaded} ImageNet tensors from {args.pre_ckpt_path}", flush=True)
    print(f"{cfg.MODEL.NAME}: {count_params(net) / 1e6:.2f}M parameters", flush=True)
    end_epoch = cfg.TRAIN.END_EPOCH
    lr = get_lr(cfg.TRAIN.LR, end_epoch, steps_per_epoch, cfg.TRAIN.LR_STEP, cfg.TRAIN.LR_FACTOR)
    opt = build_optimizer(net, cfg, ms.Tensor(lr))
    amp_level = args.amp_level or ("O0" if args.device_target == "CPU" else "O2")
    kwargs = {}
    if amp_level != "O0":
        kwargs["loss_scale_manager"] = ms.amp.DynamicLossScaleManager()
    train_step = ms.amp.build_train_network(
        NetWithLoss(net, cfg.LOSS.USE_TARGET_WEIGHT), opt, level=amp_level, **kwargs
    )
    train_step.set_train()

    begin_epoch = cfg.TRAIN.BEGIN_EPOCH
    if args.resume:
        path = existing[-1] if args.resume == "auto" and existing else args.resume
        if path != "auto":
            params = ms.load_checkpoint(path)
            begin_epoch = int(params.pop("epoch").asnumpy())
            params.pop("global_step_done", None)
            # the schedule comes from this run's config (END_EPOCH may have grown); the restored
            # global_step indexes into it
            params.pop("learning_rate", None)
            not_loaded, _ = ms.load_param_into_net(train_step, params)
            not_loaded = [n for n in not_loaded if n != "learning_rate"]
            if not_loaded:
                sys.exit(
                    f"{path}: {len(not_loaded)} parameters not in this model: {not_loaded[:3]}"
                )
            print(f"resumed from {path} at epoch {begin_epoch}", flush=True)
    if rank == 0:
        save_config(cfg, os.path.join(out_dir, "config.json"))

    total_steps = max(end_epoch - begin_epoch, 0) * steps_per_epoch
    if args.max_steps is not None:
        total_steps = min(total_steps, args.max_steps)
    batch = cfg.TRAIN.BATCH_SIZE
    iterator = dataset.create_tuple_iterator(num_epochs=max(end_epoch - begin_epoch, 1))
    written = []
    done, meter = 0, Throughput(total_steps, batch * group)
    print("============== Starting Training ==============", flush=True)
    for epoch in range(begin_epoch, end_epoch):
        if done >= total_steps:
            break
        for i, (image, target, weight) in enumerate(iterator):
            out = train_step(image, target, weight)
            loss = out[0] if isinstance(out, tuple) else out
            done += 1
            if done % args.log_interval == 0 or i + 1 == steps_per_epoch or done == total_steps:
                value = float(loss.asnumpy())
                speed, _, eta = meter.update(done)
                step_lr = lr[min(epoch * steps_per_epoch + i, len(lr) - 1)]
                print(
                    f"epoch: {epoch + 1}/{end_epoch} step: {i + 1}/{steps_per_epoch}, loss is "
                    f"{value:.7f}, lr {step_lr:.1e}, {speed:.1f} img/s, ETA {format_duration(eta)}",
                    flush=True,
                )
                if not np.isfinite(value):
                    sys.exit(f"loss is {value} at epoch {epoch + 1} step {i + 1}: stopping")
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
            modelarts.upload(out_dir, out_url)


if __name__ == "__main__":
    main()
