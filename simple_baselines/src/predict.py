"""Heatmap prediction with the flip test, decoding, and the prediction gallery."""

from __future__ import annotations

import math

import mindspore as ms
import numpy as np
from PIL import Image

from posekit import coco, topdown


def predict_heatmaps(net, images, flip_test, flip_pairs, shift=True):
    """(N, 3, H, W) normalised images -> (N, K, h, w) heatmaps, averaged with the mirrored
    input's (flipped back, pairs swapped, shifted one pixel) when flip_test."""
    heatmaps = net(ms.Tensor(images)).asnumpy()
    if flip_test:
        mirrored = np.ascontiguousarray(images[..., ::-1])
        flipped = net(ms.Tensor(mirrored)).asnumpy()
        heatmaps = (heatmaps + topdown.flip_heatmaps(flipped, flip_pairs, shift)) * 0.5
    return heatmaps


def gallery(items, path, columns=4, tile_width=320, thresh=0.2):
    """items: list of (RGB image, list of (K, 3) poses) -> one PNG grid of skeleton drawings."""
    tiles = []
    for image, poses in items:
        drawn = topdown.draw_skeleton(image, poses, coco.SKELETON, thresh=thresh)
        height = max(1, round(drawn.height * tile_width / drawn.width))
        tiles.append(drawn.resize((tile_width, height)))
    if not tiles:
        raise ValueError("no images to draw")
    columns = min(columns, len(tiles))
    rows = math.ceil(len(tiles) / columns)
    cell_h = max(t.height for t in tiles)
    canvas = Image.new("RGB", (columns * tile_width, rows * cell_h))
    for i, tile in enumerate(tiles):
        canvas.paste(tile, ((i % columns) * tile_width, (i // columns) * cell_h))
    canvas.save(path)
    return path
