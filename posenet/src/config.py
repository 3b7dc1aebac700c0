"""Default parameters (the seed's config.py); every one can be overridden on the command line.

`common_config` holds the training settings shared by all scenes; `DATASETS` the per-scene ones.
ShopFacade and GreatCourt are not in the seed: they take KingsCollege's settings. Any other
scene name (e.g. a synthetic one) takes the defaults below with its own --dataset_path.
"""

import os

POSENET_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_ROOT = os.path.dirname(POSENET_ROOT)
# Where `posekit download cambridge-<scene>` puts the data (POSEKIT_DATA overrides, as for posekit).
DATA_ROOT = os.environ.get("POSEKIT_DATA", os.path.join(REPO_ROOT, "data"))

common_config = {
    "device_target": "Ascend",
    "device_id": 0,
    "pre_trained": True,
    "max_steps": 30000,
    "save_checkpoint": True,
    "pre_trained_file": os.path.join(POSENET_ROOT, "pre_trained_googlenet_imagenet.ckpt"),
    "checkpoint_dir": os.path.join(POSENET_ROOT, "checkpoint"),
    "save_checkpoint_steps": 1000,
    "keep_checkpoint_max": 10,
    "image_size": 224,  # network input (random crop in training, centre crop at test time)
    "resize_size": 256,  # shorter image side before cropping (the paper's 256)
    "loss": "weighted",
    "loss_weights": (3.0, 3.0, 10.0, 150.0, 150.0, 500.0),
    "grad_clip": 0.0,  # per-tensor max L2 norm of the gradients; 0 = off, as in the seed
    "log_interval": 10,
    "seed": 1,
}

_KINGS = {"batch_size": 75, "lr_init": 0.001, "weight_decay": 0.5}
DATASETS = {
    "KingsCollege": dict(_KINGS),
    "OldHospital": {"batch_size": 75, "lr_init": 0.002, "weight_decay": 0.4},
    "StMarysChurch": {"batch_size": 75, "lr_init": 0.001, "weight_decay": 0.5},
    "ShopFacade": dict(_KINGS),
    "GreatCourt": dict(_KINGS),
}


def dataset_config(name):
    """Per-scene settings plus default paths for the scene `name`."""
    cfg = dict(DATASETS.get(name, _KINGS))
    cfg["name"] = name
    cfg["dataset_path"] = os.path.join(DATA_ROOT, "cambridge-" + name.lower(), name)
    cfg["mindrecord_dir"] = os.path.join(POSENET_ROOT, "Mindrecord" + name)
    return cfg
