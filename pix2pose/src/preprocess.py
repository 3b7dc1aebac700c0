"""Preprocessing of the seed's tool chain: coordinate models (2_1) and training crops (2_2)."""

from __future__ import annotations

import json
import os
import time
from typing import Dict, Iterable, Optional

import cv2
import numpy as np
from tqdm import tqdm

from posekit import bop
from posekit import mesh as meshlib
from src import xyz as xyzlib
from src.tools import bop_io


def make_xyz_models(data_path: str, output_path: str, cfg: dict, dataset: str) -> Dict[int, dict]:
    """models_xyz/obj_%06d.ply with vertex colours (n + 1) / 2 from normalised coordinates and
    models_xyz/<norm_factor_fn> holding each object's centre and half extents (mm)."""
    lay = bop_io.layout(cfg, dataset)
    infos = bop_io.models_info(data_path, lay, "models_xyz_source")
    out_dir = os.path.join(output_path, "models_xyz")
    os.makedirs(out_dir, exist_ok=True)
    factors = {}
    for obj_id in sorted(infos):
        m = meshlib.load_ply(bop_io.model_path(data_path, lay, "models_xyz_source", obj_id))
        nf = xyzlib.norm_factor(m.vertices)
        colored = meshlib.Mesh(m.vertices, m.faces, xyzlib.xyz_colors(m.vertices, nf), m.normals)
        meshlib.save_ply(os.path.join(out_dir, f"obj_{obj_id:06d}.ply"), colored)
        factors[str(obj_id)] = nf
    with open(os.path.join(out_dir, cfg.get("norm_factor_fn", "norm_factor.json")), "w") as f:
        json.dump(factors, f, indent=1)
    return {int(k): v for k, v in factors.items()}


def fit_crop(data: np.ndarray, max_side: int) -> np.ndarray:
    """Shrinks an (H, W, 6) crop so that its larger side is at most max_side (xyz: nearest)."""
    h, w = data.shape[:2]
    if max(h, w) <= max_side:
        return data
    s = max_side / max(h, w)
    size = (max(1, int(w * s + 0.5)), max(1, int(h * s + 0.5)))
    rgb = cv2.resize(data[:, :, :3], size, interpolation=cv2.INTER_AREA)
    xyz = cv2.resize(data[:, :, 3:6], size, interpolation=cv2.INTER_NEAREST)
    return np.concatenate([rgb, xyz], axis=2)


def crop_pair(rgb: np.ndarray, xyz_col: np.ndarray, mask: np.ndarray) -> Optional[np.ndarray]:
    ys, xs = np.nonzero(mask)
    if len(ys) < 4:
        return None
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    img = rgb.copy()
    img[~mask] = 128  # the reference greys everything but the object
    col = xyz_col.copy()
    col[~mask] = 0
    return np.concatenate([img[y0:y1, x0:x1], col[y0:y1, x0:x1]], axis=2)


def object_window(rgb, xyz_col, mask):
    """The square around the object that holds it under any in-plane rotation (padded)."""
    ys, xs = np.nonzero(mask)
    cy, cx = (ys.min() + ys.max()) / 2.0, (xs.min() + xs.max()) / 2.0
    half = int(np.ceil(np.hypot(ys.max() - ys.min() + 1, xs.max() - xs.min() + 1) / 2.0)) + 2
    y0, x0 = int(cy) - half, int(cx) - half
    pad = (
        (max(0, -y0), max(0, y0 + 2 * half - mask.shape[0])),
        (max(0, -x0), max(0, x0 + 2 * half - mask.shape[1])),
    )
    y0p, x0p = y0 + pad[0][0], x0 + pad[1][0]
    sl = (slice(y0p, y0p + 2 * half), slice(x0p, x0p + 2 * half))
    rgb_w = np.pad(rgb, pad + ((0, 0),), constant_values=128)[sl]
    xyz_w = np.pad(xyz_col, pad + ((0, 0),))[sl]
    return rgb_w, xyz_w, np.pad(mask, pad)[sl]


def rotate_inplane(rgb, xyz_col, mask, angle):
    """Rotates image, coordinates and mask about the centre (the window holds the object)."""
    h, w = mask.shape
    M = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, 1.0)
    args = dict(dsize=(w, h), borderMode=cv2.BORDER_CONSTANT)
    rgb_r = cv2.warpAffine(rgb, M, flags=cv2.INTER_LINEAR, borderValue=(128, 128, 128), **args)
    xyz_r = cv2.warpAffine(xyz_col, M, flags=cv2.INTER_NEAREST, borderValue=0, **args)
    mask_r = cv2.warpAffine(
        mask.astype(np.uint8), M, flags=cv2.INTER_NEAREST, borderValue=0, **args
    )
    return rgb_r, xyz_r, mask_r > 0


def render_training(
    data_path: str,
    output_path: str,
    cfg: dict,
    dataset: str,
    obj_ids: Optional[Iterable[int]] = None,
) -> Dict[int, int]:
    """train_xyz/NN/%06d[_%03d].npy: (H, W, 6) uint8 crops (RGB, xyz colour) per ground truth
    of the train split, plus in-plane rotations every `augment_inplane` degrees (paper
    section 4.1), except for continuous-symmetry views whose axis faces the camera."""
    from posekit.render import Renderer

    lay = bop_io.layout(cfg, dataset)
    infos = bop_io.models_info(data_path, lay, "models_render")
    step = int(cfg.get("augment_inplane", 30))
    max_side = int(cfg.get("img_size", 128))
    xyz_dir = os.path.join(output_path, "models_xyz")
    ids = sorted(infos) if obj_ids is None else [int(o) for o in obj_ids]
    counts = {}
    renderers = {}
    try:
        for obj_id in ids:
            if obj_id not in infos:
                raise ValueError(f"object {obj_id} is not in the models_info of {dataset}")
            ply = os.path.join(xyz_dir, f"obj_{obj_id:06d}.ply")
            if not os.path.exists(ply):
                raise FileNotFoundError(f"{ply}: run 2_1_ply_file_to_3d_coord_model.py first")
            model = meshlib.load_ply(ply)
            sym_cont = infos[obj_id]["symmetries_continuous"]
            out_dir = os.path.join(output_path, "train_xyz", f"{obj_id:02d}")
            os.makedirs(out_dir, exist_ok=True)
            n = 0
            start = time.time()
            images = list(bop_io.split_images(data_path, lay, "train", obj_id))
            for _, im_id, spath, cam, gts, _ in tqdm(images, desc=f"obj {obj_id:02d}", unit="img"):
                rgb = bop.load_image(bop.image_path(spath, "rgb", im_id))
                if rgb.ndim == 2:
                    rgb = np.repeat(rgb[:, :, None], 3, axis=2)
                h, w = rgb.shape[:2]
                if (w, h) not in renderers:
                    renderers[(w, h)] = Renderer(w, h)
                r = renderers[(w, h)]
                for g in gts:
                    if g["obj_id"] != obj_id:
                        continue
                    R, t, lock = xyzlib.canonical_pose(g["R"], g["t"], sym_cont)
                    out = r.render(model, cam["cam_K"], R, t, 10.0, 10000.0, unlit=True)
                    # Only the pixels where the object is seen in the real image are used.
                    pair = crop_pair(rgb[:, :, :3], out.rgb, out.mask)
                    if pair is None:
                        continue
                    np.save(os.path.join(out_dir, f"{n:06d}.npy"), fit_crop(pair, max_side))
                    if step > 0 and not lock:
                        window = object_window(rgb[:, :, :3], out.rgb, out.mask)
                        for angle in range(step, 360, step):
                            rr, xr, mr = rotate_inplane(*window, angle)
                            pair = crop_pair(rr, xr, mr)
                            if pair is not None:
                                np.save(
                                    os.path.join(out_dir, f"{n:06d}_{angle:03d}.npy"),
                                    fit_crop(pair, max_side),
                                )
                    n += 1
            counts[obj_id] = n
            print(f"obj {obj_id:02d}: {n} views -> {out_dir} ({time.time() - start:.1f} s)")
    finally:
        for r in renderers.values():
            r.close()
    return counts
