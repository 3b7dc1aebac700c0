"""Configuration: the defaults below (the paper's training of PoseEstNet on VeRi), overridden by
a YAML file (`config.yaml`, `config_demo.yaml`) and then by `--set SECTION.KEY=VALUE` pairs.

Unknown keys are errors, so a typo in a YAML file or an override cannot pass silently.
"""

from __future__ import annotations

import ast
import copy
import json

import yaml

from src.config.models import POSE_HIGH_RESOLUTION_NET_W32

DEFAULTS = {
    "MODEL": {
        "NAME": "pose_hrnet",
        "NUM_JOINTS": 36,
        "IMAGE_SIZE": [256, 256],  # (width, height) of the network input
        "HEATMAP_SIZE": [64, 64],
        "SIGMA": 2.0,
        "EXTRA": copy.deepcopy(POSE_HIGH_RESOLUTION_NET_W32),
    },
    "LOSS": {"USE_TARGET_WEIGHT": True},
    "DATASET": {
        "ROOT": "data/veri",
        "TRAIN_SET": "train",
        "TEST_SET": "test",
        "FLIP": True,
        "SCALE_FACTOR": 0.25,
        "ROT_FACTOR": 30.0,
        "ROT_PROB": 0.6,
    },
    "TRAIN": {
        "LR": 0.001,
        "LR_FACTOR": 0.1,
        "LR_STEP": [170, 200],
        "BEGIN_EPOCH": 0,
        "END_EPOCH": 210,
        "BATCH_SIZE": 32,
        # HRNet/PAMTRI build Adam without weight decay; the MindSpore port added 1e-4 on weights
        "WD": 0.0,
        "SHUFFLE": True,
        "NUM_WORKERS": 4,
        "SAVE_CKPT_EPOCH": 10,
        "KEEP_CKPT_MAX": 5,
    },
    "TEST": {
        "BATCH_SIZE": 32,
        "FLIP_TEST": True,
        "SHIFT_HEATMAP": True,
        "NUM_WORKERS": 2,
    },
    "GENERAL": {"SEED": 1, "DATASET_SEED": 1},
}


class Config(dict):
    """A nested dict whose keys are also attributes (cfg.TRAIN.LR)."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self[key] = value


def _wrap(value):
    if isinstance(value, dict):
        return Config({k: _wrap(v) for k, v in value.items()})
    return value


def _merge(base, update, where, source):
    for key, value in update.items():
        path = f"{where}.{key}" if where else key
        if key not in base:
            raise ValueError(f"{source}: unknown config key {path} (known: {sorted(base)})")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ValueError(f"{source}: {path} must be a mapping, got {value!r}")
            _merge(base[key], value, path, source)
        else:
            base[key] = value


def _parse_value(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def load_config(path=None, overrides=()):
    """Defaults <- YAML file at `path` <- overrides ['TRAIN.LR=0.002', ...]."""
    cfg = copy.deepcopy(DEFAULTS)
    if path:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of sections, got {type(data).__name__}")
        _merge(cfg, data, "", path)
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"--set {item!r}: expected SECTION.KEY=VALUE")
        key, text = item.split("=", 1)
        update = node = {}
        parts = key.split(".")
        for part in parts[:-1]:
            node[part] = {}
            node = node[part]
        node[parts[-1]] = _parse_value(text)
        _merge(cfg, update, "", f"--set {item}")
    return _wrap(cfg)


def save_config(cfg, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
