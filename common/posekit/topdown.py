"""Top-down keypoint codec: person box -> warped crop -> Gaussian heatmaps -> keypoints.

Framework-free and generic in the number of joints, the flip pairs and the input/heatmap sizes,
so every top-down heatmap model (simple_baselines on COCO, PAMTRI PoseEstNet on VeRi) shares it.

Conventions (those of Xiao et al.'s reference code, human-pose-estimation.pytorch):
- sizes are (width, height); points are (x, y) with pixel centres at integer coordinates;
- a box is described by its centre and a `scale` = (w, h) / pixel_std, pixel_std = 200;
- the crop transform is a similarity (uniform zoom, rotation about the centre) taking the
  scaled box onto the output array; heatmap coordinates are input coordinates / stride.

One deliberate difference: the reference rounds the Gaussian's centre to the nearest heatmap
pixel, which biases every target by up to half a pixel. Here the Gaussian sits at the exact
sub-pixel position (`quantize=False`, default), so encoding and then decoding with the
quarter-pixel refinement returns each joint within a quarter of a heatmap pixel.
`quantize=True` reproduces the reference targets.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple

import numpy as np
from PIL import Image

PIXEL_STD = 200.0
PADDING = 1.25


def box_to_center_scale(
    box: Sequence[float], aspect_ratio: float, padding: float = PADDING
) -> Tuple[np.ndarray, np.ndarray]:
    """(x, y, w, h) box -> (centre, scale), the box padded to `aspect_ratio` = w / h then enlarged.

    The shorter side is grown until w / h equals the network input's aspect ratio, so the crop is
    never distorted; `padding` (1.25 in the paper) adds context around the person.
    """
    x, y, w, h = (float(v) for v in box)
    center = np.array([x + w * 0.5, y + h * 0.5])
    if w > aspect_ratio * h:
        h = w / aspect_ratio
    elif w < aspect_ratio * h:
        w = h * aspect_ratio
    scale = np.array([w, h]) / PIXEL_STD * padding
    return center, scale


def affine_matrix(
    center: Sequence[float],
    scale: Sequence[float],
    rotation_deg: float,
    output_size: Sequence[int],
    inverse: bool = False,
) -> np.ndarray:
    """2x3 matrix taking image points to output-array points (or back, with `inverse`).

    The box width scale[0] * 200 maps onto output_size[0]; the box centre maps onto the output
    centre; the image content turns by `rotation_deg` (positive = counter-clockwise on screen,
    as the reference's augmentation). Closed form of the reference's three-point construction.
    """
    zoom = float(output_size[0]) / (float(scale[0]) * PIXEL_STD)
    rad = math.radians(rotation_deg)
    cos, sin = math.cos(rad), math.sin(rad)
    linear = zoom * np.array([[cos, sin], [-sin, cos]])
    out_center = np.array([output_size[0] * 0.5, output_size[1] * 0.5])
    if inverse:
        inv_linear = np.array([[cos, -sin], [sin, cos]]) / zoom
        return np.hstack([inv_linear, (np.asarray(center) - inv_linear @ out_center)[:, None]])
    return np.hstack(
        [linear, (out_center - linear @ np.asarray(center, dtype=np.float64))[:, None]]
    )


def apply_affine(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """(..., 2) points through a 2x3 affine matrix."""
    points = np.asarray(points, dtype=np.float64)
    return points @ matrix[:, :2].T + matrix[:, 2]


def warp_image(image: np.ndarray, matrix: np.ndarray, output_size: Sequence[int]) -> np.ndarray:
    """Bilinear warp of an HxW(xC) uint8 image by a 2x3 matrix, like cv2.warpAffine.

    Pillow samples at pixel centres offset by 0.5 and wants the output->input map, so the matrix
    is inverted and conjugated by that half-pixel shift; areas outside the image become 0.
    """
    full = np.vstack([matrix, [0.0, 0.0, 1.0]])
    inv = np.linalg.inv(full)
    shift = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    unshift = np.array([[1.0, 0.0, -0.5], [0.0, 1.0, -0.5], [0.0, 0.0, 1.0]])
    pil_map = shift @ inv @ unshift
    img = Image.fromarray(np.ascontiguousarray(image))
    out = img.transform(
        (int(output_size[0]), int(output_size[1])),
        Image.AFFINE,
        data=tuple(pil_map[:2].ravel()),
        resample=Image.BILINEAR,
    )
    return np.asarray(out)


def flip_joints(
    joints: np.ndarray, visible: np.ndarray, image_width: int, flip_pairs: Sequence[Sequence[int]]
) -> Tuple[np.ndarray, np.ndarray]:
    """Joints of the horizontally mirrored image: x -> width - 1 - x, left/right pairs swapped."""
    joints = np.array(joints, dtype=np.float64, copy=True)
    visible = np.array(visible, copy=True)
    joints[:, 0] = image_width - 1 - joints[:, 0]
    for a, b in flip_pairs:
        joints[[a, b]] = joints[[b, a]]
        visible[[a, b]] = visible[[b, a]]
    return joints, visible


def flip_heatmaps(
    heatmaps: np.ndarray, flip_pairs: Sequence[Sequence[int]], shift: bool = True
) -> np.ndarray:
    """(N, K, H, W) heatmaps of a mirrored input -> heatmaps of the original input.

    Mirroring maps input x to W_in - 1 - x, i.e. heatmap x to W - 1/stride - x, while flipping
    the array maps it to W - 1 - x: the flipped maps lie (1 - 1/stride) pixel to the left, so
    the reference shifts them one pixel right (`shift`).
    """
    out = np.array(heatmaps[..., ::-1], copy=True)
    for a, b in flip_pairs:
        out[:, [a, b]] = out[:, [b, a]]
    if shift:
        out[..., 1:] = out[..., :-1].copy()
    return out


class TopDownCodec:
    """Encodes joints to heatmap targets and decodes heatmaps back to image keypoints.

    input_size and heatmap_size are (width, height); their ratio is the network stride.
    """

    def __init__(
        self,
        input_size: Sequence[int],
        heatmap_size: Sequence[int],
        sigma: float = 2.0,
        flip_pairs: Sequence[Sequence[int]] = (),
        quantize: bool = False,
    ):
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.heatmap_size = (int(heatmap_size[0]), int(heatmap_size[1]))
        self.stride = np.array(self.input_size, float) / np.array(self.heatmap_size, float)
        self.sigma = float(sigma)
        self.flip_pairs = [tuple(p) for p in flip_pairs]
        self.quantize = quantize

    @property
    def aspect_ratio(self) -> float:
        return self.input_size[0] / self.input_size[1]

    def box_to_center_scale(self, box: Sequence[float]) -> Tuple[np.ndarray, np.ndarray]:
        return box_to_center_scale(box, self.aspect_ratio)

    def crop(
        self,
        image: np.ndarray,
        center: np.ndarray,
        scale: np.ndarray,
        rotation_deg: float = 0.0,
        joints: Optional[np.ndarray] = None,
    ):
        """Warps the box to the input size; returns (crop, joints in input coordinates)."""
        matrix = affine_matrix(center, scale, rotation_deg, self.input_size)
        crop = warp_image(image, matrix, self.input_size)
        if joints is None:
            return crop, None
        return crop, apply_affine(joints, matrix)

    def encode(self, joints: np.ndarray, visible: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(K, 2) joints in input coords, (K,) visibility -> (K, H, W) targets, (K,) weights.

        A joint's weight is 1 if it is labelled (visible > 0) and its 3-sigma Gaussian window
        touches the heatmap, else 0 (its target map stays all zero).
        """
        joints = np.asarray(joints, dtype=np.float64)
        visible = np.asarray(visible)
        num = joints.shape[0]
        w, h = self.heatmap_size
        target = np.zeros((num, h, w), dtype=np.float32)
        weight = (visible > 0).astype(np.float32)
        radius = self.sigma * 3
        xs = np.arange(w, dtype=np.float64)
        ys = np.arange(h, dtype=np.float64)
        for k in range(num):
            if weight[k] == 0:
                continue
            mu = joints[k] / self.stride
            if self.quantize:
                mu = np.floor(mu + 0.5)
            # window test as the reference: the Gaussian's bounding square must overlap the map
            ul = np.floor(np.floor(mu + 0.5) - radius)
            br = np.floor(np.floor(mu + 0.5) + radius + 1)
            if ul[0] >= w or ul[1] >= h or br[0] < 0 or br[1] < 0:
                weight[k] = 0
                continue
            gx = np.exp(-((xs - mu[0]) ** 2) / (2 * self.sigma**2))
            gy = np.exp(-((ys - mu[1]) ** 2) / (2 * self.sigma**2))
            # truncate to the 3-sigma window like the reference's patch
            gx[(xs < ul[0]) | (xs >= br[0])] = 0
            gy[(ys < ul[1]) | (ys >= br[1])] = 0
            target[k] = np.outer(gy, gx)
        return target, weight

    def decode(
        self, heatmaps: np.ndarray, center: np.ndarray, scale: np.ndarray
    ) -> Tuple[np.ndarray, np.ndarray]:
        """(N, K, H, W) heatmaps, (N, 2) centres, scales -> (N, K, 2) image points, (N, K) maxima.

        Arg-max, then a quarter-pixel step towards the higher neighbour on each axis, then the
        inverse crop transform (rotation 0, as at test time).
        """
        coords, maxvals = decode_heatmaps(heatmaps)
        center = np.asarray(center, dtype=np.float64).reshape(-1, 2)
        scale = np.asarray(scale, dtype=np.float64).reshape(-1, 2)
        out = np.empty_like(coords)
        for i in range(coords.shape[0]):
            inv = affine_matrix(center[i], scale[i], 0.0, self.heatmap_size, inverse=True)
            out[i] = apply_affine(coords[i], inv)
        return out, maxvals


def decode_heatmaps(heatmaps: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(N, K, H, W) -> (N, K, 2) heatmap coordinates with quarter-pixel refinement, (N, K) maxima.

    Joints whose maximum is not positive are placed at (0, 0), as the reference does.
    """
    heatmaps = np.asarray(heatmaps, dtype=np.float32)
    n, k, h, w = heatmaps.shape
    flat = heatmaps.reshape(n, k, -1)
    idx = flat.argmax(axis=2)
    maxvals = np.take_along_axis(flat, idx[..., None], axis=2)[..., 0]
    px = (idx % w).astype(np.int64)
    py = (idx // w).astype(np.int64)
    coords = np.stack([px, py], axis=-1).astype(np.float64)
    ni, ki = np.meshgrid(np.arange(n), np.arange(k), indexing="ij")
    inner_x = (px > 0) & (px < w - 1)
    inner_y = (py > 0) & (py < h - 1)
    right = heatmaps[ni, ki, py, np.minimum(px + 1, w - 1)]
    left = heatmaps[ni, ki, py, np.maximum(px - 1, 0)]
    down = heatmaps[ni, ki, np.minimum(py + 1, h - 1), px]
    up = heatmaps[ni, ki, np.maximum(py - 1, 0), px]
    coords[..., 0] += np.where(inner_x, np.sign(right - left) * 0.25, 0.0)
    coords[..., 1] += np.where(inner_y, np.sign(down - up) * 0.25, 0.0)
    coords[maxvals <= 0] = 0.0
    return coords, maxvals


def draw_skeleton(
    image: np.ndarray,
    people: Sequence[np.ndarray],
    skeleton: Sequence[Sequence[int]],
    thresh: float = 0.2,
    radius: int = 3,
) -> Image.Image:
    """Draws each (K, 3) pose (x, y, score) as coloured bones and joint dots on a copy of the image.

    Joints scoring at or below `thresh` and bones touching them are left out.
    """
    from PIL import ImageDraw

    canvas = Image.fromarray(np.ascontiguousarray(image)).convert("RGB")
    draw = ImageDraw.Draw(canvas)
    for n, pose in enumerate(people):
        pose = np.asarray(pose, dtype=np.float64)
        ok = pose[:, 2] > thresh
        for i, (a, b) in enumerate(skeleton):
            if ok[a] and ok[b]:
                hue = (i * 47 + n * 13) % 360
                color = tuple(int(c) for c in _hue_rgb(hue))
                draw.line([tuple(pose[a, :2]), tuple(pose[b, :2])], fill=color, width=2)
        for x, y, _ in pose[ok]:
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=(255, 255, 255))
    return canvas


def _hue_rgb(hue_deg: float) -> np.ndarray:
    """Fully saturated colour of a hue in degrees, as 0..255 RGB."""
    k = (np.array([5.0, 3.0, 1.0]) + hue_deg / 60.0) % 6
    return 255 * (1 - np.clip(np.minimum(k, 4 - k), 0, 1))
