"""Train PoseNet on a Cambridge Landmarks scene (or any folder in that layout).

Single device:  python train.py --device_target CPU --dataset KingsCollege
Data parallel:  msrun --worker_num=N ... train.py --run_distribute True (CPU/GPU), or one process
per device with RANK_TABLE_FILE (Ascend): see scripts/run_distribute_train*.sh.
`--max_steps` counts steps of all ranks together, as in the seed: each rank runs max_steps / N.
"""

import argparse
import logging
import os
import time

import mindspore as ms
import numpy as np
from src.config import common_config, dataset_config
from src.dataset import create_posenet_dataset, prepare_mindrecord, shard_fingerprint
from src.loss import PoseNetWithLoss, build_loss
from src.posenet import PoseNet, count_parameters
from src.pretrained import load_pretrained
from src.trainer import ClippedTrainStep, build_optimizer
from src.utils import CHECKPOINT_HINT, DEVICES, setup_logging, str2bool

from posekit import cambridge, modelarts
from posekit.mindspore_train import Checkpoints, multistep_lr, setup_device, weights_digest
from posekit.progress import Throughput, format_duration

LOG = logging.getLogger("posenet")


def parse_args(argv=None):
    c = common_config
    p = argparse.ArgumentParser(description="PoseNet training")
    p.add_argument("--dataset", default="KingsCollege", help="scene name (default KingsCollege)")
    p.add_argument("--dataset_path", default=None, help="scene folder with dataset_train.txt")
    p.add_argument("--mindrecord_dir", default=None, help="where the MindRecord files go")
    p.add_argument("--device_target", default=c["device_target"], choices=DEVICES)
    p.add_argument("--device_id", type=int, default=None, help="device id (default: DEVICE_ID)")
    p.add_argument("--run_distribute", type=str2bool, default=False)
    p.add_argument("--device_num", type=int, default=1, help="(seed argument) number of devices")
    p.add_argument("--max_steps", type=int, default=c["max_steps"])
    p.add_argument("--batch_size", type=int, default=None, help="per device (default 75)")
    p.add_argument("--lr_init", type=float, default=None)
    p.add_argument(
        "--lr_drop_step",
        type=int,
        default=0,
        help="learning rate / 10 from this step on (default 0: constant, as the seed)",
    )
    p.add_argument("--weight_decay", type=float, default=None)
    p.add_argument("--image_size", type=int, default=c["image_size"])
    p.add_argument("--resize_size", type=int, default=c["resize_size"])
    p.add_argument("--loss", default=c["loss"], choices=("weighted", "uncertainty"))
    p.add_argument("--loss_weights", type=float, nargs=6, default=c["loss_weights"])
    p.add_argument("--grad_clip", type=float, default=c["grad_clip"])
    p.add_argument("--pre_trained", type=str2bool, default=c["pre_trained"])
    p.add_argument("--pre_trained_file", default=c["pre_trained_file"])
    p.add_argument(
        "--init_position_bias",
        type=str2bool,
        default=False,
        help="start the xyz outputs at the mean training position",
    )
    p.add_argument("--save_checkpoint", type=str2bool, default=c["save_checkpoint"])
    p.add_argument("--checkpoint_dir", default=c["checkpoint_dir"])
    p.add_argument("--save_checkpoint_steps", type=int, default=c["save_checkpoint_steps"])
    p.add_argument("--keep_checkpoint_max", type=int, default=c["keep_checkpoint_max"])
    p.add_argument("--resume", type=str2bool, default=False, help="continue from the latest ckpt")
    p.add_argument("--log_interval", type=int, default=c["log_interval"])
    p.add_argument("--num_workers", type=int, default=2, help="data pipeline workers")
    p.add_argument("--seed", type=int, default=c["seed"])
    p.add_argument("--prepare_only", action="store_true", help="write the MindRecord and exit")
    p.add_argument("--enable_modelarts", "--is_modelarts", type=str2bool, default=False)
    p.add_argument("--data_url", default=None, help="ModelArts: data location (obs://...)")
    p.add_argument("--train_url", default=None, help="ModelArts: output location (obs://...)")
    p.add_argument("--modelarts_cache", default="/cache", help="ModelArts: local working disk")
    args = p.parse_args(argv)
    scene = dataset_config(args.dataset)
    for key in ("dataset_path", "mindrecord_dir", "batch_size", "lr_init", "weight_decay"):
        if getattr(args, key) is None:
            setattr(args, key, scene[key])
    if args.enable_modelarts and not (args.data_url and args.train_url):
        p.error("--enable_modelarts needs --data_url and --train_url")
    if args.resize_size < args.image_size:
        p.error(f"--resize_size {args.resize_size} must be >= --image_size {args.image_size}")
    return args


def main(argv=None):
    args = parse_args(argv)
    device_id = args.device_id if args.device_id is not None else int(os.getenv("DEVICE_ID", "0"))
    # data parallel: the launcher's DEVICE_ID (msrun: the local rank) picks the device
    rank, rank_size = setup_device(args.device_target, device_id, args.run_distribute)
    setup_logging(rank)
    ms.set_seed(args.seed)
    np.random.seed(args.seed)

    output_root = None
    if args.enable_modelarts:
        args.dataset_path = modelarts.fetch(
            args.data_url, os.path.join(args.modelarts_cache, f"dataset_rank{rank}")
        )
        output_root = modelarts.output_dir(
            args.train_url, os.path.join(args.modelarts_cache, "train_output")
        )
        args.checkpoint_dir = os.path.join(output_root, "checkpoint")
        args.mindrecord_dir = os.path.join(args.modelarts_cache, f"mindrecord_rank{rank}")
        # Each rank has its own copy of the data, so each converts its own MindRecord.
        record_rank = 0
    else:
        record_rank = rank

    record = prepare_mindrecord(
        args.dataset_path,
        "train",
        args.mindrecord_dir,
        args.dataset,
        args.resize_size,
        rank=record_rank,
    )
    if args.prepare_only:
        prepare_mindrecord(
            args.dataset_path,
            "test",
            args.mindrecord_dir,
            args.dataset,
            args.resize_size,
            rank=record_rank,
        )
        LOG.info("MindRecord files ready in %s", args.mindrecord_dir)
        return None

    dataset = create_posenet_dataset(
        record,
        args.batch_size,
        args.image_size,
        is_training=True,
        rank_size=rank_size,
        rank_id=rank,
        num_workers=args.num_workers,
        seed=args.seed,
    )
    steps_per_epoch = dataset.get_dataset_size()
    if steps_per_epoch == 0:
        raise ValueError(
            f"{args.dataset_path}: fewer training images per rank than --batch_size "
            f"{args.batch_size}; lower the batch size"
        )
    total_steps = max(1, args.max_steps // rank_size)
    if rank_size > 1:
        count, digest = shard_fingerprint(record, rank_size, rank, args.seed)
        LOG.info(
            "rank %d/%d reads shard %d: %d images, fingerprint %s",
            rank,
            rank_size,
            rank,
            count,
            digest,
        )

    net = PoseNet(args.image_size)
    LOG.info("PoseNet: %.2f M trainable parameters", count_parameters(net) / 1e6)
    if args.pre_trained:
        load_pretrained(net, args.pre_trained_file)
    if args.init_position_bias:
        train_split = cambridge.load_split(args.dataset_path, "train", check=False)
        net.init_position_bias(train_split.positions.mean(axis=0))
    loss = build_loss(args.loss, args.loss_weights)
    with_loss = PoseNetWithLoss(net, loss)
    lr = args.lr_init
    if args.lr_drop_step > 0:  # per-step rates; the optimizer's restored step indexes them
        lr = ms.Tensor(multistep_lr(args.lr_init, 0.1, [args.lr_drop_step], args.max_steps, 1))
    optimizer = build_optimizer(with_loss.trainable_params(), lr, args.weight_decay)
    train_step = ClippedTrainStep(with_loss, optimizer, args.grad_clip)
    train_step.set_train(True)

    checkpoints = Checkpoints(
        f"train_posenet_{args.dataset}",
        step_key="step",
        hint=CHECKPOINT_HINT,
        per_step=True,
    )
    existing = checkpoints.list(args.checkpoint_dir)
    start_step = 0
    if args.resume:
        if not existing:
            LOG.info("--resume: no checkpoint in %s, starting from step 0", args.checkpoint_dir)
        else:
            start_step = checkpoints.restore(train_step, existing[-1])
            LOG.info("resumed from %s at step %d", existing[-1], start_step)
    save = args.save_checkpoint and rank == 0
    if save:
        os.makedirs(args.checkpoint_dir, exist_ok=True)

    LOG.info(
        "training %d steps per rank on %d rank(s), batch %d per rank, %d steps per epoch",
        total_steps,
        rank_size,
        args.batch_size,
        steps_per_epoch,
    )
    meter = Throughput(total_steps, args.batch_size, start_step)
    if start_step:
        # Continue with a different shuffle from the one the interrupted run had begun.
        dataset = create_posenet_dataset(
            record,
            args.batch_size,
            args.image_size,
            is_training=True,
            rank_size=rank_size,
            rank_id=rank,
            num_workers=args.num_workers,
            seed=args.seed + start_step,
        )
    step = start_step
    last_loss = float("nan")
    start = time.time()
    # Repeated without end; MindDataset reshuffles at every pass.
    for image, pose in dataset.repeat().create_tuple_iterator(num_epochs=1):
        if step >= total_steps:
            break
        loss_value = train_step(image, pose)
        step += 1
        if step == start_step + 1:
            loss_value.asnumpy()
            LOG.info("step %d done (graph compiled) after %.1f s", step, time.time() - start)
            meter.restart(step)  # the rate leaves out the compilation
        if step % args.log_interval == 0 or step == total_steps:
            last_loss = float(loss_value.asnumpy())
            if not np.isfinite(last_loss):
                raise FloatingPointError(f"step {step}: loss is {last_loss}; lower --lr_init")
            rate, _, eta = meter.update(step)
            LOG.info(
                "epoch: %d step: %d/%d, loss is %.4f, %.1f images/s (%.1f all ranks), ETA %s",
                (step - 1) // steps_per_epoch + 1,
                step,
                total_steps,
                last_loss,
                rate,
                rate * rank_size,
                format_duration(eta),
            )
        if save and (step % args.save_checkpoint_steps == 0 or step == total_steps):
            path = os.path.join(args.checkpoint_dir, checkpoints.name(step))
            checkpoints.save(train_step, path, step)
            if args.keep_checkpoint_max > 0:
                # the newest N of this scene's checkpoints, a resumed run's earlier ones included
                for old in checkpoints.list(args.checkpoint_dir)[: -args.keep_checkpoint_max]:
                    os.remove(old)
            LOG.info("saved %s", path)
    seconds = time.time() - start
    LOG.info(
        "Train success! %d steps in %.1f s (%.1f images/s per rank)",
        step - start_step,
        seconds,
        (step - start_step) * args.batch_size / max(seconds, 1e-9),
    )
    # equal on every rank when the gradients are all-reduced (trainable weights only: BatchNorm
    # moving statistics stay per rank, rank 0's are saved)
    LOG.info("rank %d: final weights digest %.6f", rank, weights_digest(net))
    if args.enable_modelarts:
        modelarts.upload(output_root, args.train_url)
    saved = checkpoints.list(args.checkpoint_dir)
    return {
        "rank": rank,
        "steps": step,
        "loss": last_loss,
        "checkpoint": saved[-1] if saved else None,
    }


if __name__ == "__main__":
    main()
