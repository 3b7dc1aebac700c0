"""Cambridge Landmarks layout: a rendered street scene with train and test camera walks.

Writes `seqN/frameNNNNN.png` and `dataset_train.txt` / `dataset_test.txt` exactly as the real
scenes (posekit.cambridge). The scene, like KingsCollege, is a row of building facades along the
north side of a square (x east, y north, z up, metres) with more buildings east and west, trees
and a paved ground; every facade has its own colours, window grid and banner, so what a camera
sees pins down where it stands and where it looks. Each sequence is a smooth walk through the
square at eye height, looking mostly north with a slowly swinging heading; train and test walks
are drawn independently from the same distribution, so relocalisation is an interpolation
problem, as on the real data.

Pose convention (that of the published files, from VisualSFM's NVM output): the position is the
camera centre C in world coordinates and the quaternion (w-first) is the world-to-camera
rotation R, X_cam = R (X - C), with OpenCV camera axes (x right, y down, z forward).
"""

from __future__ import annotations

import argparse
import math
import os
from typing import List, Tuple

import numpy as np
from PIL import Image

from posekit import cambridge, mesh
from posekit.geometry import matrix_to_quat

EYE_HEIGHT = 1.7
SUN_DIR = np.array([0.4, -0.5, 0.75])  # towards the sun, world frame
SKY = (0.62, 0.76, 0.92)
# Walk area: the square in front of the north facades.
AREA_X = (-14.0, 14.0)
AREA_Y = (-12.0, 0.0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="output scene directory")
    parser.add_argument("--train-seqs", type=int, default=4, help="train sequences (default 4)")
    parser.add_argument("--test-seqs", type=int, default=2, help="test sequences (default 2)")
    parser.add_argument("--frames", type=int, default=60, help="frames per sequence (default 60)")
    parser.add_argument("--width", type=int, default=455, help="image width (default 455)")
    parser.add_argument("--height", type=int, default=256, help="image height (default 256)")
    parser.add_argument("--hfov", type=float, default=60.0, help="horizontal field of view, deg")
    parser.add_argument("--yaw-range", type=float, default=50.0, help="heading swing +-, deg")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def run(args) -> None:
    info = generate(
        args.out,
        train_seqs=args.train_seqs,
        test_seqs=args.test_seqs,
        frames=args.frames,
        width=args.width,
        height=args.height,
        hfov=args.hfov,
        yaw_range=args.yaw_range,
        seed=args.seed,
    )
    print(
        f"cambridge synth: {info['train']} train and {info['test']} test frames "
        f"({args.width}x{args.height}) in {args.out}"
    )


# ---------------------------------------------------------------------------------------------
# Textures


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    i = int(h * 6) % 6
    f = h * 6 - math.floor(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    return np.array([(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i])


def facade_texture(rng: np.random.Generator, hue: float, size=(128, 128)) -> np.ndarray:
    """A facade: wall colour with noise, a grid of windows, a striped banner of a second hue."""
    h, w = size
    wall = _hsv(hue, rng.uniform(0.35, 0.7), rng.uniform(0.6, 0.95))
    img = np.ones((h, w, 3)) * wall + rng.normal(0, 0.03, (h, w, 1))
    rows, cols = int(rng.integers(2, 5)), int(rng.integers(3, 7))
    window = _hsv(rng.uniform(), 0.3, rng.uniform(0.1, 0.35))
    for r in range(rows):
        for c in range(cols):
            y0 = int((r + 0.25) * h / rows)
            x0 = int((c + 0.25) * w / cols)
            img[y0 : y0 + int(0.5 * h / rows), x0 : x0 + int(0.5 * w / cols)] = window
    banner = _hsv((hue + rng.uniform(0.3, 0.7)) % 1.0, 0.9, 0.9)
    band = int(rng.integers(0, h - h // 6))
    stripes = (np.arange(w) // max(2, w // int(rng.integers(3, 9)))) % 2 == 0
    img[band : band + h // 8, stripes] = banner
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def ground_texture(rng: np.random.Generator, size: int = 512, extent: float = 80.0) -> np.ndarray:
    """Paving over the whole square (extent metres wide): slabs with joints on a colour field that
    changes across the square (red grows eastwards, green northwards over the central 40 m, plus
    a few broad painted zones), so the ground near a camera tells where it stands."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    # Texture row 0 is the top (north) edge, column 0 the west edge: world x, y from -extent/2.
    x = (xx - 0.5) * extent
    y = (0.5 - yy) * extent
    east = np.clip((x + 20.0) / 40.0, 0, 1)
    north = np.clip((y + 20.0) / 40.0, 0, 1)
    img = np.stack([0.25 + 0.6 * east, 0.25 + 0.6 * north, 0.7 - 0.4 * east], axis=-1)
    for _ in range(6):
        cx, cy, rad = rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7), rng.uniform(0.03, 0.08)
        weight = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * rad**2))[..., None]
        img = img * (1 - 0.5 * weight) + 0.5 * weight * _hsv(rng.uniform(), 0.7, 0.9)
    img = img + rng.normal(0, 0.02, (size, size, 1))
    joints = ((np.mgrid[0:size, 0:size] % 8) == 0).any(axis=0)
    img[joints] *= 0.7
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# Scene


def build_scene(rng: np.random.Generator) -> List[mesh.Mesh]:
    """Meshes in world coordinates: ground, buildings (one texture each), trees."""
    parts = []
    # One texture over 80 m x 80 m (no repeats: a tiled ground would repeat its cues).
    ground = mesh.plane(80.0, 80.0, texture=ground_texture(rng))
    parts.append(ground.transformed(np.eye(3), [0.0, 0.0, 0.0]))
    # (centre x, centre y, width along the facade, depth, height, facing angle)
    layout = []
    x = -30.0
    while x < 30.0:  # north row, facades facing south towards the square
        width = rng.uniform(6.0, 11.0)
        layout.append((x + width / 2, 16.0 + rng.uniform(0, 2), width, 8.0, rng.uniform(7, 16)))
        x += width + rng.uniform(0.5, 2.0)
    for side in (-1.0, 1.0):  # east and west rows
        y = -20.0
        while y < 8.0:
            depth = rng.uniform(6.0, 10.0)
            layout.append((side * 24.0, y + depth / 2, 8.0, depth, rng.uniform(6, 12)))
            y += depth + rng.uniform(0.5, 2.0)
    hues = rng.permutation(len(layout)) / len(layout)
    for (cx, cy, sx, sy, sz), hue in zip(layout, hues):
        tex = facade_texture(rng, float(hue))
        parts.append(mesh.box((sx, sy, sz), texture=tex).transformed(np.eye(3), [cx, cy, sz / 2]))
    for _ in range(6):  # trees at the edge of the square
        tx, ty = rng.uniform(-18, 18), rng.choice([-16.0, 7.0]) + rng.uniform(-1, 1)
        trunk = mesh.cylinder(0.25, 3.0, 12, color=(0.4, 0.28, 0.15))
        crown = mesh.sphere(
            rng.uniform(1.5, 2.5), 8, 12, color=_hsv(rng.uniform(0.22, 0.4), 0.7, 0.6)
        )
        parts.append(trunk.transformed(np.eye(3), [tx, ty, 1.5]))
        parts.append(crown.transformed(np.eye(3), [tx, ty, 4.0]))
    return parts


# ---------------------------------------------------------------------------------------------
# Cameras


def look_rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """World-to-camera rotation for a camera heading `yaw` (0 = north, positive towards east),
    tilted up by `pitch` and rolled by `roll` (radians), OpenCV camera axes."""
    forward = np.array([math.sin(yaw) * math.cos(pitch), math.cos(yaw) * math.cos(pitch), 0.0])
    forward[2] = math.sin(pitch)
    right = np.array([math.cos(yaw), -math.sin(yaw), 0.0])
    down = np.cross(forward, right)
    R = np.stack([right, down, forward])  # rows: camera axes in world coordinates
    c, s = math.cos(roll), math.sin(roll)
    return np.array([[c, s, 0], [-s, c, 0], [0, 0, 1.0]]) @ R


def _smooth_noise(rng: np.random.Generator, s: np.ndarray, terms: int = 3) -> np.ndarray:
    """A smooth random function of s in [0, 1], values roughly within [-1, 1]."""
    out = np.zeros_like(s)
    for k in range(1, terms + 1):
        out += rng.uniform(-1, 1) * np.sin(math.pi * k * s + rng.uniform(0, 2 * math.pi)) / k
    return out / 1.5


def camera_walk(
    rng: np.random.Generator, frames: int, yaw_range_deg: float
) -> Tuple[np.ndarray, np.ndarray]:
    """(frames, 3) camera centres and (frames, 3, 3) world-to-camera rotations of one walk."""
    s = np.linspace(0.0, 1.0, frames)
    pts = np.stack(
        [
            np.stack([rng.uniform(*AREA_X), rng.uniform(*AREA_Y)])
            for _ in range(4)  # cubic Bezier control points inside the walk area
        ]
    )
    b = np.stack([(1 - s) ** 3, 3 * s * (1 - s) ** 2, 3 * s**2 * (1 - s), s**3], axis=1)
    xy = b @ pts
    z = EYE_HEIGHT + 0.05 * np.sin(2 * math.pi * s * frames / 6.0) + rng.uniform(-0.1, 0.1)
    centres = np.column_stack([xy, z])
    # The heading sweeps through most of +-yaw_range during a walk.
    yaw = np.radians(yaw_range_deg) * np.sin(
        rng.uniform(0, 2 * math.pi) + rng.uniform(2, 4) * s * math.pi
    )
    pitch = np.radians(8.0 + 4.0 * _smooth_noise(rng, s))
    roll = np.radians(1.5 * _smooth_noise(rng, s))
    rotations = np.stack([look_rotation(a, p, r) for a, p, r in zip(yaw, pitch, roll)])
    return centres, rotations


def intrinsics(width: int, height: int, hfov_deg: float) -> np.ndarray:
    f = width / (2.0 * math.tan(math.radians(hfov_deg) / 2.0))
    return np.array([[f, 0, (width - 1) / 2.0], [0, f, (height - 1) / 2.0], [0, 0, 1.0]])


def sequence_names(train_seqs: int, test_seqs: int) -> Tuple[List[str], List[str]]:
    """Interleave test sequences among the train ones, as in the real scenes (seq2, seq5, ...)."""
    total = train_seqs + test_seqs
    test_ids = list(range(2, total + 1, 3))[:test_seqs]
    spare = [k for k in range(total, 0, -1) if k not in test_ids]
    test_ids += spare[: test_seqs - len(test_ids)]
    train = [f"seq{i}" for i in range(1, total + 1) if i not in test_ids]
    return train, [f"seq{i}" for i in sorted(test_ids)]


def render_view(renderer, handles, K, R, centre) -> np.ndarray:
    """RGB image of the scene from camera centre `centre` with world-to-camera rotation R."""
    t = -R @ centre
    return renderer.render_scene(
        [(h, R, t) for h in handles],
        K,
        0.1,
        300.0,
        light_dir=R @ (SUN_DIR / np.linalg.norm(SUN_DIR)),
        ambient=0.55,
        bg_color=SKY,
    ).rgb


def generate(
    out: str,
    train_seqs: int = 4,
    test_seqs: int = 2,
    frames: int = 60,
    width: int = 455,
    height: int = 256,
    hfov: float = 60.0,
    yaw_range: float = 50.0,
    seed: int = 0,
) -> dict:
    """Render the scene and write it in the Cambridge layout; returns frame counts."""
    if train_seqs < 1 or test_seqs < 1 or frames < 2:
        raise ValueError("need at least 1 train and 1 test sequence of at least 2 frames")
    from posekit.render import Renderer  # OpenGL only when rendering

    rng = np.random.default_rng(seed)
    parts = build_scene(rng)
    K = intrinsics(width, height, hfov)
    train_names, test_names = sequence_names(train_seqs, test_seqs)
    walks = {name: camera_walk(rng, frames, yaw_range) for name in train_names + test_names}
    os.makedirs(out, exist_ok=True)
    counts = {}
    with Renderer(width, height) as renderer:
        handles = [renderer.upload(p) for p in parts]
        for split, names in (("train", train_names), ("test", test_names)):
            rows, positions, quats = [], [], []
            for seq in names:
                os.makedirs(os.path.join(out, seq), exist_ok=True)
                for i, (c, R) in enumerate(zip(*walks[seq])):
                    img = render_view(renderer, handles, K, R, c)
                    name = f"{seq}/frame{i + 1:05d}.png"
                    Image.fromarray(img).save(os.path.join(out, name))
                    rows.append(name)
                    positions.append(c)
                    quats.append(matrix_to_quat(R))
            cambridge.write_split(
                os.path.join(out, cambridge.SPLIT_FILES[split]), rows, positions, quats
            )
            counts[split] = len(rows)
    return counts
