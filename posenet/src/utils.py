"""Command-line, logging and predictor-loading helpers shared by train.py, eval.py, export.py and
infer.py (device setup: posekit.mindspore_train.set_device)."""

import argparse
import logging
import sys

import mindspore as ms

DEVICES = ("Ascend", "GPU", "CPU")


def str2bool(text):
    """The seed passes booleans as True/False words (`--run_distribute True`)."""
    value = str(text).strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected True or False, got {text!r}")


def setup_logging(rank=0):
    fmt = f"%(asctime)s [rank {rank}] %(message)s" if rank else "%(asctime)s %(message)s"
    logging.basicConfig(level=logging.INFO, format=fmt, stream=sys.stdout, force=True)


def load_predictor(ckpt_path, image_size):
    """PoseNetPredictor with weights from a training checkpoint (optimiser entries ignored)."""
    import os

    from src.posenet import PoseNet, PoseNetPredictor

    if not os.path.isfile(ckpt_path):
        raise FileNotFoundError(f"checkpoint {ckpt_path} not found")
    net = PoseNet(image_size)
    params = ms.load_checkpoint(ckpt_path)
    names = {p.name for p in net.get_parameters()}
    missing = sorted(n for n in names if n not in params)
    if missing:
        raise ValueError(
            f"{ckpt_path}: {len(missing)} PoseNet parameters missing, e.g. {missing[:3]}; "
            "is it a PoseNet checkpoint?"
        )
    for name in names:
        if tuple(params[name].shape) != tuple(net.parameters_dict()[name].shape):
            raise ValueError(
                f"{ckpt_path}: {name} has shape {tuple(params[name].shape)}, expected "
                f"{tuple(net.parameters_dict()[name].shape)}"
            )
    ms.load_param_into_net(net, {k: v for k, v in params.items() if k in names})
    predictor = PoseNetPredictor(net)
    predictor.set_train(False)
    return predictor
