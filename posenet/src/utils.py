"""Command-line, logging and predictor-loading helpers shared by train.py, eval.py, export.py and
infer.py (device setup: posekit.mindspore_train.set_device)."""

import argparse
import logging
import sys

from posekit.mindspore_train import load_weights

DEVICES = ("Ascend", "GPU", "CPU")
# ends the error raised when a checkpoint does not fit PoseNet
CHECKPOINT_HINT = "is it a PoseNet checkpoint?"


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
    from src.posenet import PoseNet, PoseNetPredictor

    net = PoseNet(image_size)
    load_weights(net, ckpt_path, CHECKPOINT_HINT)
    predictor = PoseNetPredictor(net)
    predictor.set_train(False)
    return predictor
