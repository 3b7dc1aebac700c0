"""KITTI flow 2015 PNGs: 16-bit, 3 channels (u, v, valid) in RGB order, u and v stored as
flow * 64 + 2^15 (the devkit's format). OpenCV reads and writes them (BGR order on its side)."""

import cv2
import numpy as np


def read_flow_png(path):
    """-> (flow (H, W, 2) float32 pixels, valid (H, W) bool)."""
    raw = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise ValueError(f"{path}: not a readable PNG")
    if raw.dtype != np.uint16 or raw.ndim != 3 or raw.shape[2] != 3:
        raise ValueError(
            f"{path}: expected a 16-bit 3-channel KITTI flow PNG, got {raw.dtype} {raw.shape}"
        )
    rgb = raw[..., ::-1]
    flow = (rgb[..., :2].astype(np.float32) - 2**15) / 64.0
    return flow, rgb[..., 2] > 0


def write_flow_png(path, flow, valid=None):
    flow = np.asarray(flow, dtype=np.float64)
    valid = np.ones(flow.shape[:2], bool) if valid is None else np.asarray(valid, bool)
    enc = np.clip(np.round(flow * 64.0 + 2**15), 0, 65535).astype(np.uint16)
    rgb = np.dstack([enc, valid.astype(np.uint16)])
    if not cv2.imwrite(path, rgb[..., ::-1]):
        raise OSError(f"could not write {path}")
