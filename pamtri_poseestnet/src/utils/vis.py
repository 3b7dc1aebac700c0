"""Pictures: predicted keypoints drawn on images, a gallery grid, heatmap and segment images."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from posekit import topdown, veri

LEFT, RIGHT = (60, 220, 60), (60, 160, 255)


def draw_prediction(image, pred, scores, gt=None, visible=None, thresh=0.4, scale=None):
    """Image (H, W, 3) with the predicted outline (left side green, right blue), joints scoring
    above `thresh` (hidden joints are never trained, so they mostly score low), and the labelled
    visible joints as small red crosses. Enlarged by `scale` (default: longer side ~300 px)."""
    img = Image.fromarray(np.ascontiguousarray(image)).convert("RGB")
    if scale is None:
        scale = max(1, int(round(300 / max(img.size))))
    img = img.resize((img.width * scale, img.height * scale), Image.BILINEAR)
    pose = np.concatenate([np.asarray(pred, float) * scale, np.asarray(scores)[:, None]], axis=1)
    canvas = topdown.draw_skeleton(np.asarray(img), [pose], veri.SKELETON, thresh=thresh, radius=2)
    draw = ImageDraw.Draw(canvas)
    for k, (x, y, s) in enumerate(pose):
        if s > thresh:
            color = LEFT if k < veri.SIDE else RIGHT
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=color)
    if gt is not None:
        for (x, y), v in zip(np.asarray(gt, float) * scale, visible):
            if v > 0:
                draw.line([x - 3, y - 3, x + 3, y + 3], fill=(255, 40, 40), width=1)
                draw.line([x - 3, y + 3, x + 3, y - 3], fill=(255, 40, 40), width=1)
    return canvas


def gallery(tiles, columns=4, tile=(320, 240), background=(30, 30, 30)):
    """Tiles (PIL images) fitted into a grid of `tile` cells."""
    rows = (len(tiles) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * tile[0], max(rows, 1) * tile[1]), background)
    for i, t in enumerate(tiles):
        t = t.copy()
        t.thumbnail(tile)
        x = (i % columns) * tile[0] + (tile[0] - t.width) // 2
        y = (i // columns) * tile[1] + (tile[1] - t.height) // 2
        sheet.paste(t, (x, y))
    return sheet


def heatmap_image(heatmap):
    """(h, w) heatmap -> uint8 image, values x 255 clipped to [0, 255] (as PAMTRI's trans step)."""
    return np.clip(np.asarray(heatmap) * 255.0, 0, 255).astype(np.uint8)


def is_convex(points):
    """True if the polygon turns the same way at every vertex (no zero turn): PAMTRI only fills
    vehicle segments whose projected quadrilateral is convex."""
    pts = np.asarray(points, dtype=np.float64)
    n = len(pts)
    signs = []
    for k in range(n):
        a, b, c = pts[k - 2], pts[k - 1], pts[k]
        cross = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0])
        signs.append(np.sign(cross))
    return signs[0] != 0 and all(s == signs[0] for s in signs)


def segment_masks(points, width, height, size=(64, 64)):
    """The 13 vehicle segments of MultiTaskNet as (13, h, w) uint8 masks resized to `size`.

    Each quadrilateral of posekit.veri.SEGMENTS (vertices rounded to pixels) is filled at the
    image size when convex and resized bilinearly; a non-convex one stays empty.
    """
    out = np.zeros((len(veri.SEGMENTS), size[1], size[0]), np.uint8)
    pts = np.rint(np.asarray(points, dtype=np.float64))
    for s, quad in enumerate(veri.SEGMENTS):
        corners = pts[list(quad)]
        if not is_convex(corners):
            continue
        mask = Image.new("L", (int(width), int(height)), 0)
        ImageDraw.Draw(mask).polygon([tuple(p) for p in corners], fill=255)
        out[s] = np.asarray(mask.resize(size, Image.BILINEAR))
    return out
