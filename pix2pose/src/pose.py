"""Pix2Pose inference (paper section 3.3, reference recognition.py): two-stage prediction,
outlier removal, PnP + RANSAC, candidate selection and score.

1. Crop a square of box_size (1.5) x the larger side of the box, resize to the network size.
2. Stage 1: predicted coordinates with |n| > 0.3 are the object; for each outlier threshold
   th_o, pixels with predicted error < th_o form a mask; the object pixels give a refined box
   (side capped by the stage-1 crop) centred on their mean; the crop is repeated with
   everything outside the mask set to grey (0).
3. Stage 2 on every refined crop; pixels with |n| > 0.3 and error < th_inlier (0.1) become
   2D-3D correspondences (pixel centre -> model point n * scale + ct, mm).
4. cv2.solvePnPRansac (EPnP, reprojection error 5 px, 100 iterations, as the reference).
5. Among the candidates, the one minimising |projected t - mask centroid|^2 / inliers wins;
   its score is inliers / stage-1 object pixels.
"""

from __future__ import annotations

from typing import Callable, Dict, Optional, Sequence

import cv2
import numpy as np

from src import xyz as xyzlib


def square_box(bbox_xywh, box_size: float, centre=None, max_side: Optional[float] = None):
    """(u0, v0, side) of the square crop around a box, in image pixels (may leave the image)."""
    x, y, w, h = [float(v) for v in bbox_xywh]
    cu, cv = (x + w / 2.0, y + h / 2.0) if centre is None else centre
    side = max(w, h) * box_size
    if max_side is not None:
        side = min(side, max_side)
    side = max(side, 8.0)
    return cu - side / 2.0, cv - side / 2.0, side


def crop(
    image: np.ndarray,
    u0: float,
    v0: float,
    side: float,
    size: int,
    interp=cv2.INTER_LINEAR,
    border=0.0,
):
    """Resamples the square [u0, u0 + side) x [v0, v0 + side) of image to size x size
    (pixel centres aligned; outside the image = border)."""
    s = size / side
    M = np.array([[s, 0, -u0 * s + 0.5 * s - 0.5], [0, s, -v0 * s + 0.5 * s - 0.5]])
    return cv2.warpAffine(
        image, M, (size, size), flags=interp, borderMode=cv2.BORDER_CONSTANT, borderValue=border
    )


def crop_to_image(u0, v0, side, size):
    """Image coordinates (u, v) of the centres of the size x size crop pixels."""
    g = (np.arange(size) + 0.5) * side / size - 0.5
    return u0 + g[None, :].repeat(size, 0), v0 + g[:, None].repeat(size, 1)


def normalise_rgb(rgb: np.ndarray) -> np.ndarray:
    return (rgb.astype(np.float32) - 128.0) / 128.0  # reference: (img - 128) / 128


class Pix2PoseEstimator:
    """predict(batch (N, S, S, 3) in [-1, 1]) -> (xyz (N, S, S, 3), error (N, S, S, 1))."""

    def __init__(
        self,
        predict: Callable[[np.ndarray], tuple],
        size: int,
        K: np.ndarray,
        norm_factor: Dict[str, float],
        th_outlier: Sequence[float] = (0.1, 0.2, 0.3),
        th_inlier: float = 0.1,
        box_size: float = 1.5,
        ransac_reproj_px: float = 5.0,
        ransac_iterations: int = 100,
        seed: int = 0,
    ):
        self.predict, self.size = predict, int(size)
        self.K = np.asarray(K, dtype=np.float64)
        self.nf = norm_factor
        self.th_outlier, self.th_inlier = list(th_outlier), float(th_inlier)
        self.box_size = float(box_size)
        self.reproj, self.iters, self.seed = float(ransac_reproj_px), int(ransac_iterations), seed

    def pnp(self, xyz, err, u0, v0, side):
        """PnP + RANSAC on one stage-2 prediction; None when too few correspondences."""
        non_gray = np.linalg.norm(xyz, axis=2) > xyzlib.BACKGROUND_RADIUS
        valid = non_gray & (err[:, :, 0] < self.th_inlier)
        if valid.sum() < 6:
            return None
        uu, vv = crop_to_image(u0, v0, side, self.size)
        img_pts = np.stack([uu[valid], vv[valid]], 1).astype(np.float64)
        obj_pts = xyzlib.from_normalised(xyz[valid], self.nf)
        cv2.setRNGSeed(self.seed)
        ok, rvec, tvec, inliers = cv2.solvePnPRansac(
            obj_pts,
            img_pts,
            self.K,
            None,
            iterationsCount=self.iters,
            reprojectionError=self.reproj,
            flags=cv2.SOLVEPNP_EPNP,
        )
        if not ok or inliers is None or len(inliers) < 4:
            return None
        R, _ = cv2.Rodrigues(rvec)
        return {
            "R": R,
            "t": tvec.reshape(3),
            "n_inliers": int(len(inliers)),
            "n_corr": int(valid.sum()),
            "centroid": np.array([uu[non_gray].mean(), vv[non_gray].mean()]),
        }

    def estimate(self, rgb: np.ndarray, bbox_xywh) -> Optional[dict]:
        """6D pose (R, t in mm) of the object in box (x, y, w, h) of an RGB uint8 image."""
        img = normalise_rgb(rgb[:, :, :3])
        u0, v0, side = square_box(bbox_xywh, self.box_size)
        xyz1, err1 = self.predict(crop(img, u0, v0, side, self.size)[None])
        xyz1, err1 = xyz1[0], err1[0]
        non_gray = np.linalg.norm(xyz1, axis=2) > xyzlib.BACKGROUND_RADIUS
        n_init = int(non_gray.sum())
        if n_init < 10:
            return None
        uu, vv = crop_to_image(u0, v0, side, self.size)
        ys, xs = np.nonzero(non_gray)
        scale = side / self.size
        box = (
            uu[0, xs.min()],
            vv[ys.min(), 0],
            (xs.max() - xs.min() + 1) * scale,
            (ys.max() - ys.min() + 1) * scale,
        )
        centre = (uu[non_gray].mean(), vv[non_gray].mean())
        inputs, boxes = [], []
        for th in self.th_outlier:
            keep = non_gray & (err1[:, :, 0] < th)
            if keep.sum() < 10:
                continue
            bu0, bv0, bside = square_box(box, self.box_size, centre, max_side=side)
            # the stage-1 mask, mapped to the new crop: outside it the input is grey (0)
            keep_img = crop(
                keep.astype(np.float32),
                (bu0 - u0) / scale,
                (bv0 - v0) / scale,
                bside / scale,
                self.size,
                cv2.INTER_NEAREST,
            )
            x2 = crop(img, bu0, bv0, bside, self.size)
            x2[keep_img < 0.5] = 0.0
            inputs.append(x2)
            boxes.append((bu0, bv0, bside))
        if not inputs:
            return None
        xyz2, err2 = self.predict(np.stack(inputs))
        best, best_dist = None, np.inf
        for k, (bu0, bv0, bside) in enumerate(boxes):
            cand = self.pnp(xyz2[k], err2[k], bu0, bv0, bside)
            if cand is None or cand["t"][2] <= 0:
                continue
            p = self.K @ cand["t"]
            dist = np.sum((p[:2] / p[2] - cand["centroid"]) ** 2) / (cand["n_inliers"] + 1e-6)
            if dist < best_dist:
                best, best_dist = cand, dist
                best["stage2"] = (xyz2[k], err2[k], (bu0, bv0, bside))
        if best is None:
            return None
        best["score"] = best["n_inliers"] / float(n_init)
        best["stage1"] = (xyz1, err1, (u0, v0, side))
        return best


def draw_outline(
    image: np.ndarray, mask: np.ndarray, color=(0, 255, 0), thickness: int = 1
) -> np.ndarray:
    """Draws the outline of a binary mask onto a copy of an RGB image."""
    out = np.ascontiguousarray(image[:, :, :3]).copy()
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, color, thickness)
    return out
