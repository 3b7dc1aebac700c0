"""Monocular depth and optical-flow metrics in the form the KITTI literature reports them.

Depth (Eigen et al. 2014, as computed by monodepth/SfMLearner/GeoNet `eval_depth.py`): per image,
pixels with min_depth < gt < max_depth (optionally inside the Garg crop) count; the prediction is
resized to the ground truth's size (bilinear), multiplied by median(gt) / median(pred) over those
pixels (monocular depth has no scale), clamped to [min_depth, max_depth], and
  abs_rel  = mean(|gt - pred| / gt)          sq_rel   = mean((gt - pred)^2 / gt)
  rmse     = sqrt(mean((gt - pred)^2))       rmse_log = sqrt(mean((log gt - log pred)^2))
  a_k      = mean(max(gt/pred, pred/gt) < 1.25^k), k = 1, 2, 3;
the reported value is the mean over images.

Flow: end-point error (mean Euclidean distance of flow vectors over valid pixels) and the KITTI
2015 outlier rate Fl (EPE > 3 px and > 5 % of the ground-truth magnitude).
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence

import numpy as np

METRIC_NAMES = ("abs_rel", "sq_rel", "rmse", "rmse_log", "a1", "a2", "a3")
MIN_DEPTH = 1e-3
MAX_DEPTH = 80.0
# Garg et al. (ECCV 2016) crop as fractions of (height, height, width, width).
GARG_CROP = (0.40810811, 0.99189189, 0.03594771, 0.96405229)


def compute_depth_errors(gt: np.ndarray, pred: np.ndarray) -> Dict[str, float]:
    """The seven metrics for matched 1-D arrays of positive depths (already masked/scaled)."""
    gt = np.asarray(gt, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    if gt.shape != pred.shape or gt.size == 0:
        raise ValueError(f"need two equal non-empty arrays, got {gt.shape} and {pred.shape}")
    if np.any(gt <= 0) or np.any(pred <= 0):
        raise ValueError("depths must be positive (mask invalid pixels and clamp first)")
    thresh = np.maximum(gt / pred, pred / gt)
    diff = gt - pred
    return {
        "abs_rel": float(np.mean(np.abs(diff) / gt)),
        "sq_rel": float(np.mean(diff**2 / gt)),
        "rmse": float(np.sqrt(np.mean(diff**2))),
        "rmse_log": float(np.sqrt(np.mean((np.log(gt) - np.log(pred)) ** 2))),
        "a1": float(np.mean(thresh < 1.25)),
        "a2": float(np.mean(thresh < 1.25**2)),
        "a3": float(np.mean(thresh < 1.25**3)),
    }


def resize_bilinear(depth: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize of a float map (pixel-centre aligned, as OpenCV's INTER_LINEAR)."""
    from PIL import Image

    img = Image.fromarray(np.asarray(depth, dtype=np.float32), mode="F")
    return np.asarray(img.resize((width, height), Image.BILINEAR), dtype=np.float32)


def eval_mask(
    gt: np.ndarray,
    min_depth: float = MIN_DEPTH,
    max_depth: float = MAX_DEPTH,
    garg_crop: bool = False,
) -> np.ndarray:
    mask = (gt > min_depth) & (gt < max_depth)
    if garg_crop:
        h, w = gt.shape
        c = (np.array(GARG_CROP) * [h, h, w, w]).astype(np.int32)
        crop = np.zeros_like(mask)
        crop[c[0] : c[1], c[2] : c[3]] = True
        mask &= crop
    return mask


def evaluate_depth_image(
    gt: np.ndarray,
    pred: np.ndarray,
    min_depth: float = MIN_DEPTH,
    max_depth: float = MAX_DEPTH,
    median_scaling: bool = True,
    garg_crop: bool = False,
) -> Dict[str, float]:
    """Metrics of one image; `pred` may be smaller than `gt` and is resized. Adds 'scale'."""
    gt = np.asarray(gt, dtype=np.float64)
    if gt.ndim != 2:
        raise ValueError(f"ground-truth depth must be (H, W), got {gt.shape}")
    pred = np.asarray(pred, dtype=np.float64)
    if pred.shape != gt.shape:
        pred = resize_bilinear(pred, gt.shape[0], gt.shape[1]).astype(np.float64)
    mask = eval_mask(gt, min_depth, max_depth, garg_crop)
    if not mask.any():
        raise ValueError("ground truth has no pixel inside the depth range")
    g, p = gt[mask], pred[mask]
    scale = float(np.median(g) / np.median(p)) if median_scaling else 1.0
    p = np.clip(p * scale, min_depth, max_depth)
    out = compute_depth_errors(g, p)
    out["scale"] = scale
    return out


def evaluate_depths(
    gts: Sequence[np.ndarray],
    preds: Sequence[np.ndarray],
    min_depth: float = MIN_DEPTH,
    max_depth: float = MAX_DEPTH,
    median_scaling: bool = True,
    garg_crop: bool = False,
) -> Dict[str, float]:
    """Mean of the per-image metrics over a test set (plus the median-scale ratio's std)."""
    if len(gts) != len(preds) or not gts:
        raise ValueError(f"need as many predictions as ground truths, got {len(preds)}/{len(gts)}")
    rows = [
        evaluate_depth_image(g, p, min_depth, max_depth, median_scaling, garg_crop)
        for g, p in zip(gts, preds)
    ]
    out = {k: float(np.mean([r[k] for r in rows])) for k in METRIC_NAMES}
    scales = np.array([r["scale"] for r in rows])
    out["scale_std_over_median"] = float(scales.std() / np.median(scales))
    out["n"] = len(rows)
    return out


def flow_epe(
    gt_flow: np.ndarray, pred_flow: np.ndarray, valid: Optional[np.ndarray] = None
) -> Dict[str, float]:
    """Mean end-point error and KITTI Fl outlier ratio over valid pixels of (H, W, 2) flows."""
    gt = np.asarray(gt_flow, dtype=np.float64)
    pred = np.asarray(pred_flow, dtype=np.float64)
    if gt.shape != pred.shape or gt.ndim != 3 or gt.shape[2] != 2:
        raise ValueError(f"flows must both be (H, W, 2), got {gt.shape} and {pred.shape}")
    mask = np.ones(gt.shape[:2], bool) if valid is None else np.asarray(valid, bool)
    if not mask.any():
        raise ValueError("flow ground truth has no valid pixel")
    epe = np.linalg.norm(gt - pred, axis=2)[mask]
    mag = np.linalg.norm(gt, axis=2)[mask]
    outlier = (epe > 3.0) & (epe > 0.05 * mag)
    return {"epe": float(epe.mean()), "fl": float(outlier.mean()), "n": int(mask.sum())}
