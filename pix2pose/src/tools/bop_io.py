"""BOP data set access for the Pix2Pose tools (the seed's bop_io.py), on top of posekit.bop.

A layout names, per data set, the folders for the models used to make the coordinate models
(2_1), to render training targets (2_2) and to evaluate, and the train and test splits. The
T-LESS layout is the one the seed README builds (models_reconst / models_cad / models_eval,
train_primesense / test_primesense, camera.json); `synth` is what `posekit synth bop` writes.
A config may override any key under "layouts".
"""

from __future__ import annotations

import json
import os
from typing import Dict, List

from posekit import bop

LAYOUTS = {
    "tless": {
        "models_xyz_source": "models_reconst",
        "models_render": "models_cad",
        "models_eval": "models_eval",
        "train": "train_primesense",
        "test": "test_primesense",
        "split_type": "primesense",
    },
    "synth": {
        "models_xyz_source": "models",
        "models_render": "models",
        "models_eval": "models",
        "train": "train",
        "test": "test",
        "split_type": None,
    },
}


def load_cfg(path: str) -> dict:
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: config file not found")
    with open(path, encoding="utf-8") as f:
        try:
            cfg = json.load(f)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from None
    for key in ("score_type", "task_type", "cand_factor"):
        # The reference compared task_type as a string; these are integers.
        if key in cfg:
            try:
                cfg[key] = int(cfg[key])
            except (TypeError, ValueError):
                raise ValueError(
                    f"{path}: key '{key}': expected an integer, got {cfg[key]!r}"
                ) from None
    return cfg


def layout(cfg: dict, dataset: str) -> dict:
    layouts = dict(LAYOUTS)
    layouts.update(cfg.get("layouts", {}))
    if dataset not in layouts:
        raise ValueError(f"unknown data set {dataset!r}; known: {', '.join(sorted(layouts))}")
    return layouts[dataset]


def models_info(data_path: str, lay: dict, kind: str = "models_eval") -> Dict[int, dict]:
    return bop.load_models_info(os.path.join(data_path, lay[kind], "models_info.json"))


def model_path(data_path: str, lay: dict, kind: str, obj_id: int) -> str:
    path = os.path.join(data_path, lay[kind], f"obj_{obj_id:06d}.ply")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: model of object {obj_id} not found ({kind})")
    return path


def scene_ids(split_dir: str) -> List[int]:
    if not os.path.isdir(split_dir):
        raise FileNotFoundError(f"{split_dir}: split folder not found")
    return sorted(int(d) for d in os.listdir(split_dir) if d.isdigit() and len(d) == 6)


def split_images(data_path: str, lay: dict, split: str, obj_id=None):
    """Yields (scene_id, im_id, scene_path, camera entry, gts, gt_infos) of a split; with
    obj_id, only images that show that object."""
    split_dir = os.path.join(data_path, lay[split])
    for scene_id in scene_ids(split_dir):
        spath = bop.scene_dir(split_dir, scene_id)
        cams = bop.load_scene_camera(os.path.join(spath, "scene_camera.json"))
        gts = bop.load_scene_gt(os.path.join(spath, "scene_gt.json"))
        info_path = os.path.join(spath, "scene_gt_info.json")
        infos = bop.load_scene_gt_info(info_path) if os.path.exists(info_path) else {}
        for im_id in sorted(gts):
            if obj_id is not None and all(g["obj_id"] != obj_id for g in gts[im_id]):
                continue
            if im_id not in cams:
                raise bop.BopFormatError(
                    f"{os.path.join(spath, 'scene_camera.json')}: image {im_id} has ground truth "
                    "but no camera"
                )
            yield scene_id, im_id, spath, cams[im_id], gts[im_id], infos.get(im_id)


def results_name(method: str, dataset: str, lay: dict) -> str:
    return bop.results_filename(method, dataset, "test", lay.get("split_type"))
