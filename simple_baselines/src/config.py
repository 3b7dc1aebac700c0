"""Configuration: the paper's / reference's defaults, overridable from json files and --set.

`config` mirrors the seed's src/config.py sections (GENERAL, MODEL, NETWORK, LOSS, DATASET, TRAIN,
TEST). Scripts take `--config_file FILE.json` (e.g. the config.json that train.py writes next to
its checkpoints) and `--set SECTION.KEY=VALUE ...` (VALUE as a Python literal).
"""

from __future__ import annotations

import ast
import copy
import json


class Config(dict):
    """dict with attribute access, nested."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    def __setattr__(self, name, value):
        self[name] = value


def _wrap(value):
    if isinstance(value, dict):
        return Config({k: _wrap(v) for k, v in value.items()})
    return value


DEFAULTS = {
    "GENERAL": {"TRAIN_SEED": 1, "EVAL_SEED": 1, "DATASET_SEED": 1},
    "MODEL": {
        "INIT_WEIGHTS": True,
        "PRETRAINED": "",  # resnet50 ImageNet weights: a .ckpt or torchvision .pth
        "NUM_JOINTS": 17,
        "IMAGE_SIZE": [192, 256],  # width, height
    },
    "NETWORK": {
        "NUM_LAYERS": 50,
        "WIDTH": 64,  # ResNet stem channels; the paper's 64 (smaller only for CPU demos)
        "DECONV_WITH_BIAS": False,
        "NUM_DECONV_LAYERS": 3,
        "NUM_DECONV_FILTERS": [256, 256, 256],
        "NUM_DECONV_KERNELS": [4, 4, 4],
        "FINAL_CONV_KERNEL": 1,
        "HEATMAP_SIZE": [48, 64],  # width, height
        "SIGMA": 2,
    },
    "LOSS": {"USE_TARGET_WEIGHT": True},
    "DATASET": {
        "ROOT": "data/coco",
        "TRAIN_SET": "train2017",
        "TRAIN_JSON": "annotations/person_keypoints_train2017.json",
        "TEST_SET": "val2017",
        "TEST_JSON": "annotations/person_keypoints_val2017.json",
        "FLIP": True,
        "SCALE_FACTOR": 0.3,
        "ROT_FACTOR": 40,
        "ROT_PROB": 0.6,
    },
    "TRAIN": {
        "SHUFFLE": True,
        "BATCH_SIZE": 64,
        "BEGIN_EPOCH": 0,
        "END_EPOCH": 140,
        "LR": 0.001,
        "LR_FACTOR": 0.1,
        "LR_STEP": [90, 120],
        "NUM_PARALLEL_WORKERS": 2,
        "SAVE_CKPT_EPOCH": 3,
        "KEEP_CKPT_MAX": 10,
    },
    "TEST": {
        "BATCH_SIZE": 32,
        "FLIP_TEST": True,
        "SHIFT_HEATMAP": True,
        "USE_GT_BBOX": False,
        "COCO_BBOX_FILE": "person_detection_results/COCO_val2017_detections_AP_H_56_person.json",
        "NUM_PARALLEL_WORKERS": 2,
        "OKS_THRE": 0.9,
        "IN_VIS_THRE": 0.2,
        "IMAGE_THRE": 0.0,
    },
}

config = _wrap(copy.deepcopy(DEFAULTS))


def get_config(config_file=None, overrides=()):
    """Defaults, then a json file's values, then SECTION.KEY=VALUE overrides; validated."""
    cfg = _wrap(copy.deepcopy(DEFAULTS))
    if config_file:
        with open(config_file, encoding="utf-8") as f:
            loaded = json.load(f)
        for section, values in loaded.items():
            for key, value in values.items():
                _set(cfg, f"{section}.{key}", value, config_file)
    for item in overrides or ():
        if "=" not in item:
            raise ValueError(f"--set expects SECTION.KEY=VALUE, got {item!r}")
        name, text = item.split("=", 1)
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        _set(cfg, name.strip(), value, "--set")
    check(cfg)
    return cfg


def _set(cfg, name, value, origin):
    section, _, key = name.partition(".")
    if section not in cfg or key not in cfg[section]:
        raise ValueError(f"{origin}: unknown config entry {name!r}")
    cfg[section][key] = _wrap(value)


def check(cfg):
    """Catches inconsistent sizes early, with the names of the entries involved."""
    iw, ih = cfg.MODEL.IMAGE_SIZE
    hw, hh = cfg.NETWORK.HEATMAP_SIZE
    stride = 2**cfg.NETWORK.NUM_DECONV_LAYERS
    if iw % 32 or ih % 32:
        raise ValueError(f"MODEL.IMAGE_SIZE {cfg.MODEL.IMAGE_SIZE} must be multiples of 32")
    if (hw, hh) != (iw * stride // 32, ih * stride // 32):
        raise ValueError(
            f"NETWORK.HEATMAP_SIZE {cfg.NETWORK.HEATMAP_SIZE} must be MODEL.IMAGE_SIZE / 32 * "
            f"2^NUM_DECONV_LAYERS = {[iw * stride // 32, ih * stride // 32]}"
        )
    if len(cfg.NETWORK.NUM_DECONV_FILTERS) != cfg.NETWORK.NUM_DECONV_LAYERS:
        raise ValueError("NETWORK.NUM_DECONV_FILTERS needs NUM_DECONV_LAYERS entries")


def save_config(cfg, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)
