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
from mindspore import nn
from src.config import load_config, save_config
from src.dataset.dataset import create_dataset
from src.loss.loss import NetWithLoss
from src.model.HRNet import count_params, get_pose_net
from src.utils.checkpoint import CHECKPOINTS

from posekit import mindspore_train, modelarts

LOG_FORMAT = (
    "epoch: {epoch}/{epochs} step: {step}/{steps}, loss is {loss:.7f}, lr {lr:.1e}, "
    "{speed:.1f} img/s, ETA {eta}"
)


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
    rank, group = mindspore_train.setup_device(args.device_target, args.device_id, args.distribute)
    ms.set_seed(cfg.GENERAL.SEED)
    existing = CHECKPOINTS.prepare(out_dir, args.resume, "--ckpt_dir")

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
    lr = mindspore_train.multistep_lr(
        cfg.TRAIN.LR, cfg.TRAIN.LR_FACTOR, cfg.TRAIN.LR_STEP, end_epoch, steps_per_epoch
    )
    opt = build_optimizer(net, cfg, ms.Tensor(lr))
    train_step = mindspore_train.build_train_step(
        NetWithLoss(net, cfg.LOSS.USE_TARGET_WEIGHT), opt, args.amp_level, args.device_target
    )
    begin_epoch = CHECKPOINTS.resume(train_step, args.resume, existing, cfg.TRAIN.BEGIN_EPOCH)
    if rank == 0:
        save_config(cfg, os.path.join(out_dir, "config.json"))

    print("============== Starting Training ==============", flush=True)
    mindspore_train.train_epochs(
        train_step, dataset, net, checkpoints=CHECKPOINTS, out_dir=out_dir, rank=rank,
        begin_epoch=begin_epoch, end_epoch=end_epoch, steps_per_epoch=steps_per_epoch, lr=lr,
        images_per_step=cfg.TRAIN.BATCH_SIZE * group, save_every=cfg.TRAIN.SAVE_CKPT_EPOCH,
        keep=cfg.TRAIN.KEEP_CKPT_MAX, log_format=LOG_FORMAT, log_interval=args.log_interval,
        max_steps=args.max_steps,
    )  # fmt: skip
    if rank == 0:
        if args.enable_modelarts:
            modelarts.upload(out_dir, out_url)


if __name__ == "__main__":
    main()
