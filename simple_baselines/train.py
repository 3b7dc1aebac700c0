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
from mindspore import nn
from src.checkpoint import CHECKPOINTS
from src.config import get_config, save_config
from src.dataset import create_dataset
from src.network_with_loss import JointsMSELoss, PoseResNetWithLoss
from src.pose_resnet import count_params, get_pose_net
from src.pretrained import load_imagenet_backbone

from posekit import mindspore_train, modelarts

LOG_FORMAT = (
    "epoch {epoch}/{epochs} step {step}/{steps} loss {loss:.7f} lr {lr:.1e} {speed:.1f} img/s "
    "ETA {eta}"
)


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
    rank, group = mindspore_train.setup_device(
        args.device_target, args.device_id, args.run_distribute
    )
    ms.set_seed(cfg.GENERAL.TRAIN_SEED)
    existing = CHECKPOINTS.prepare(out_dir, args.resume, "--train_url")

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
    lr = mindspore_train.multistep_lr(
        cfg.TRAIN.LR, cfg.TRAIN.LR_FACTOR, cfg.TRAIN.LR_STEP, end_epoch, steps_per_epoch
    )
    opt = nn.Adam(net.trainable_params(), learning_rate=ms.Tensor(lr))
    train_step = mindspore_train.build_train_step(
        PoseResNetWithLoss(net, JointsMSELoss(cfg.LOSS.USE_TARGET_WEIGHT)),
        opt,
        args.amp_level,
        args.device_target,
    )
    begin_epoch = CHECKPOINTS.resume(train_step, args.resume, existing, cfg.TRAIN.BEGIN_EPOCH)
    if rank == 0:
        save_config(cfg, os.path.join(out_dir, "config.json"))

    mindspore_train.train_epochs(
        train_step, dataset, net, checkpoints=CHECKPOINTS, out_dir=out_dir, rank=rank,
        begin_epoch=begin_epoch, end_epoch=end_epoch, steps_per_epoch=steps_per_epoch, lr=lr,
        images_per_step=cfg.TRAIN.BATCH_SIZE * group, save_every=cfg.TRAIN.SAVE_CKPT_EPOCH,
        keep=cfg.TRAIN.KEEP_CKPT_MAX, log_format=LOG_FORMAT, log_interval=args.log_interval,
        max_steps=args.max_steps,
    )  # fmt: skip
    if rank == 0:
        if args.enable_modelarts:
            modelarts.upload(out_dir, args.train_url)


if __name__ == "__main__":
    main()
