"""KITTI odometry: rendered driving sequences in the real KITTI odometry layout.

A camera 1.65 m above the road (KITTI's mounting height) drives down a street lined with
textured facades, parked boxes (cars), poles and trees, under a sky with clouds above distant
hills (a panorama at infinity, so it moves with the camera's rotation only); its path has
straight parts, left and right turns, and speed changes. Layout, as KITTI's (DESIGN.md section 4):

    OUT/sequences/NN/image_2/%06d.png   rendered frames
    OUT/sequences/NN/calib.txt          P0..P3 and Tr, KITTI-like (P2 = [K | 0])
    OUT/sequences/NN/times.txt          timestamps, 10 Hz
    OUT/poses/NN.txt                    camera-to-world 3x4 per frame, frame 0 at the origin
    OUT/sequences/NN/depth_2/%06d.png   ground-truth depth of image_2 (not part of KITTI
                                        odometry; KITTI depth benchmark's 16-bit PNG format,
                                        metres * 256, 0 = no value, e.g. sky)
    OUT/sequences/NN/flow_2/%06d_10.png ground-truth flow from frame i to i+1 (not part of KITTI
                                        odometry; KITTI flow 2015 PNG format), valid where the
                                        depth is (occluded pixels included, as KITTI's flow_occ)

Camera axes are KITTI's: x right, y down, z forward. Everything is seeded.
"""

from __future__ import annotations

import math
import os
from typing import List, Sequence, Tuple

import numpy as np
from PIL import Image

from posekit import kitti

CAMERA_HEIGHT = 1.65  # metres above the road (KITTI's camera 0)
# KITTI sequence 00's P2 intrinsics at 1241 x 376 pixels.
KITTI_SIZE = (1241, 376)
KITTI_FX, KITTI_CX, KITTI_CY = 718.856, 607.1928, 185.2157
BASELINE = 0.54  # stereo baseline (m), for P1/P3
FRAME_PERIOD = 0.1  # seconds
MAX_RANGE = 80.0  # metres rendered (KITTI depth evaluation cap)


def intrinsics(width: int, height: int) -> np.ndarray:
    """KITTI P2 intrinsics scaled to an image of width x height."""
    sx, sy = width / KITTI_SIZE[0], height / KITTI_SIZE[1]
    return np.array(
        [[KITTI_FX * sx, 0.0, KITTI_CX * sx], [0.0, KITTI_FX * sy, KITTI_CY * sy], [0, 0, 1.0]]
    )


def calib_for(K: np.ndarray):
    """P0..P3 and Tr in KITTI's calib.txt layout for intrinsics K."""
    P = np.hstack([K, np.zeros((3, 1))])
    P_right = P.copy()
    P_right[0, 3] = -K[0, 0] * BASELINE
    # velodyne -> camera: x_cam = -y_velo, y_cam = -z_velo, z_cam = x_velo, lidar 8 cm lower
    Tr = np.array([[0, -1.0, 0, 0], [0, 0, -1.0, -0.08], [1.0, 0, 0, -0.27]])
    return {"P0": P, "P1": P_right, "P2": P.copy(), "P3": P_right.copy(), "Tr": Tr}


# --------------------------------------------------------------------------- camera path


def drive_path(rng: np.random.Generator, n_frames: int) -> Tuple[np.ndarray, np.ndarray]:
    """(positions (N, 2) in the ground plane (x, z), headings (N,) yaw) of a car-like drive.

    Speed wanders in [0.5, 1.5] m/frame (18-54 km/h at 10 Hz); turns of up to ~4 deg/frame
    alternate with straight stretches; heading and speed change smoothly.
    """
    pos = np.zeros((n_frames, 2))
    yaw = np.zeros(n_frames)
    speed = rng.uniform(0.7, 1.2)
    rate, target_rate, hold = 0.0, 0.0, 0
    for i in range(1, n_frames):
        if hold <= 0:
            turning = rng.uniform() < 0.55
            target_rate = (
                math.radians(rng.uniform(1.5, 4.0)) * rng.choice([-1, 1]) if turning else 0.0
            )
            hold = int(rng.integers(8, 25))
        hold -= 1
        rate += 0.25 * (target_rate - rate)
        speed = float(np.clip(speed + rng.normal(0, 0.06), 0.5, 1.5))
        yaw[i] = yaw[i - 1] + rate
        heading = np.array([math.sin(yaw[i]), math.cos(yaw[i])])
        pos[i] = pos[i - 1] + speed * heading
    return pos, yaw


def camera_to_world(pos: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """(N, 4, 4) KITTI poses: rotation about y (down) by yaw, camera at height 0."""
    poses = np.tile(np.eye(4), (len(yaw), 1, 1))
    for i, (p, a) in enumerate(zip(pos, yaw)):
        c, s = math.cos(a), math.sin(a)
        poses[i, :3, :3] = [[c, 0, s], [0, 1, 0], [-s, 0, c]]
        poses[i, :3, 3] = [p[0], 0.0, p[1]]
    return poses


# --------------------------------------------------------------------------- textures


def _noise(rng: np.random.Generator, h: int, w: int, scale: int) -> np.ndarray:
    """Smooth value noise in [0, 1] at roughly `scale` pixels per feature."""
    gh, gw = max(2, h // scale + 2), max(2, w // scale + 2)
    grid = rng.uniform(0, 1, (gh, gw)).astype(np.float32)
    img = Image.fromarray(grid, mode="F").resize((w, h), Image.BICUBIC)
    return np.clip(np.asarray(img), 0, 1)


def facade_texture(rng: np.random.Generator, floors: int, bays: int) -> np.ndarray:
    """A building front: wall colour with grain, a grid of windows with frames and sills."""
    px = 24
    h, w = floors * px * 2, bays * px * 2
    base = rng.uniform(0.25, 0.85, 3)
    grain = _noise(rng, h, w, 6)[..., None] * 0.35 + _noise(rng, h, w, 40)[..., None] * 0.25
    img = base * (0.7 + grain)
    glass = rng.uniform(0.05, 0.35, 3)
    for f in range(floors):
        for b in range(bays):
            if rng.uniform() < 0.1:
                continue
            y0, x0 = f * 2 * px + px // 2, b * 2 * px + px // 3
            y1, x1 = y0 + px, x0 + int(px * 1.3)
            img[y0 - 2 : y1 + 2, x0 - 2 : x1 + 2] = 0.9  # frame
            tint = glass + rng.uniform(-0.05, 0.25)
            img[y0:y1, x0:x1] = tint * (0.6 + 0.8 * _noise(rng, y1 - y0, x1 - x0, 5)[..., None])
            img[y1 + 2 : y1 + 5, x0 - 4 : x1 + 4] = 0.15  # sill shadow
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def road_texture(rng: np.random.Generator) -> np.ndarray:
    """Asphalt with fine grain, patches and dashed markings; tiles every 8 x 8 m."""
    n = 256
    grain = 0.55 * _noise(rng, n, n, 2) + 0.3 * _noise(rng, n, n, 12) + 0.15 * _noise(rng, n, n, 64)
    img = np.repeat((0.18 + 0.35 * grain)[..., None], 3, axis=2)
    img[:, 124:132] = np.where(np.arange(n)[:, None, None] % 128 < 64, 0.85, img[:, 124:132])
    for _ in range(12):
        y, x, r = rng.integers(0, n, 2).tolist() + [int(rng.integers(5, 20))]
        img[max(0, y - r) : y + r, max(0, x - r) : x + r] *= rng.uniform(0.7, 1.3)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def blotch_texture(rng: np.random.Generator, color: Sequence[float]) -> np.ndarray:
    n = 64
    shade = 0.6 + 0.4 * _noise(rng, n, n, 8)[..., None] + 0.2 * _noise(rng, n, n, 2)[..., None]
    return (np.clip(np.asarray(color) * shade, 0, 1) * 255).astype(np.uint8)


# --------------------------------------------------------------------------- street


def _placed(mesh, yaw: float, x: float, y: float, z: float):
    c, s = math.cos(yaw), math.sin(yaw)
    R = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return mesh.transformed(R, [x, y, z])


def build_street(rng: np.random.Generator, pos: np.ndarray, yaw: np.ndarray):
    """World-frame meshes along the path: [(mesh, (x, z) anchor)] (anchors for culling)."""
    from posekit import mesh as pm

    parts = []
    # Road: a ground plane tile every ~30 m along the path (the plane is z = 0; turn it to y).
    road = pm.plane(60.0, 60.0, uv_repeat=(7.5, 7.5), texture=road_texture(rng))
    to_ground = np.array([[1, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # plane normal +z -> -y (up)
    ground = road.transformed(to_ground, [0, 0, 0])
    travelled = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pos, axis=0), axis=1))])
    for d in np.arange(-30.0, travelled[-1] + 90.0, 30.0):
        i = int(np.searchsorted(travelled, min(max(d, 0.0), travelled[-1])))
        i = min(i, len(pos) - 1)
        fwd = np.array([math.sin(yaw[i]), math.cos(yaw[i])])
        extra = d - travelled[i]
        x, z = pos[i] + fwd * extra
        parts.append((_placed(ground, 0.0, x, CAMERA_HEIGHT, z), (x, z)))

    # Facades, parked cars, poles and trees on both sides, placed along the path.
    d = -20.0
    while d < travelled[-1] + 80.0:
        i = min(int(np.searchsorted(travelled, min(max(d, 0.0), travelled[-1]))), len(pos) - 1)
        a = yaw[i]
        fwd = np.array([math.sin(a), math.cos(a)])
        right = np.array([math.cos(a), -math.sin(a)])
        base = pos[i] + fwd * (d - travelled[i])
        length = rng.uniform(6.0, 14.0)
        for side in (-1.0, 1.0):
            if rng.uniform() < 0.9:
                depth = rng.uniform(4.0, 9.0)
                height = rng.uniform(6.0, 16.0)
                offset = rng.uniform(7.0, 11.0) + depth / 2
                floors = max(2, int(height / 3.2))
                bays = max(2, int(length / 2.5))
                tex = facade_texture(rng, floors, bays)
                # Local z runs along the street. A box's +x face (seen from the left side of
                # the street) maps u to height, its -x face u to length: orient the windows.
                if side < 0:
                    tex = np.ascontiguousarray(tex.transpose(1, 0, 2))
                box = pm.box([depth, height, length * 0.95], texture=tex)
                x, z = base + right * side * offset
                parts.append((_placed(box, a, x, CAMERA_HEIGHT - height / 2, z), (x, z)))
            if rng.uniform() < 0.45:
                car = pm.box([1.8, 1.5, 4.2], texture=blotch_texture(rng, rng.uniform(0.1, 0.9, 3)))
                x, z = base + right * side * rng.uniform(3.8, 5.0) + fwd * rng.uniform(-2, 2)
                parts.append((_placed(car, a, x, CAMERA_HEIGHT - 0.75, z), (x, z)))
            if rng.uniform() < 0.35:
                tone = rng.uniform(0.2, 0.6)
                pole = pm.cylinder(0.12, 5.0, 12, texture=blotch_texture(rng, [tone] * 3))
                up = np.array([[1, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])  # cylinder axis z -> -y
                x, z = base + right * side * 5.8 + fwd * rng.uniform(-3, 3)
                parts.append((pole.transformed(up, [x, CAMERA_HEIGHT - 2.5, z]), (x, z)))
            if rng.uniform() < 0.25:
                leaves = rng.uniform([0.1, 0.3, 0.05], [0.3, 0.6, 0.2])
                crown = pm.sphere(
                    rng.uniform(1.2, 2.0), 10, 16, texture=blotch_texture(rng, leaves)
                )
                x, z = base + right * side * 6.5 + fwd * rng.uniform(-3, 3)
                parts.append((crown.transformed(np.eye(3), [x, CAMERA_HEIGHT - 4.0, z]), (x, z)))
        d += length
    return parts


# --------------------------------------------------------------------------- rendering


def pixel_rays(K: np.ndarray, width: int, height: int) -> np.ndarray:
    """(3, H*W) camera-frame rays K^-1 (u, v, 1) of every pixel, row-major."""
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    return np.linalg.inv(K) @ np.stack([u.ravel(), v.ravel(), np.ones(u.size)])


def rigid_flow(depth: np.ndarray, K: np.ndarray, T_next_from_this: np.ndarray):
    """Flow (H, W, 2) induced by camera motion on a static scene, and where it is defined."""
    h, w = depth.shape
    v, u = np.mgrid[0:h, 0:w].astype(np.float64)
    pts = pixel_rays(K, w, h) * depth.ravel()
    q = K @ (T_next_from_this[:3, :3] @ pts + T_next_from_this[:3, 3:])
    z = q[2]
    valid = (depth.ravel() > 0) & (z > 1e-3)
    z = np.where(valid, z, 1.0)
    flow = np.stack([q[0] / z - u.ravel(), q[1] / z - v.ravel()], -1).reshape(h, w, 2)
    return np.where(valid.reshape(h, w, 1), flow, 0.0), valid.reshape(h, w)


def _periodic_noise(rng: np.random.Generator, h: int, w: int, cutoff: float) -> np.ndarray:
    """Smooth noise in [0, 1] that wraps around horizontally (and vertically): white noise
    low-passed in the Fourier domain, keeping frequencies below `cutoff` cycles per image."""
    fy, fx = np.fft.fftfreq(h)[:, None] * h, np.fft.fftfreq(w)[None, :] * w
    radius = np.hypot(fx * h / w, fy)
    spectrum = np.fft.fft2(rng.normal(size=(h, w))) * np.exp(-((radius / cutoff) ** 2))
    field = np.real(np.fft.ifft2(spectrum))
    return (field - field.min()) / (np.ptp(field) + 1e-12)


# The sky panorama covers elevations from below the horizon up to SKY_TOP (radians); the
# camera's vertical field of view reaches about 14 deg above the horizon.
SKY_TOP = math.radians(30.0)
SKY_BOTTOM = math.radians(-10.0)


def sky_panorama(rng: np.random.Generator, width: int = 4096, height: int = 512) -> np.ndarray:
    """(height, width, 3) float RGB over azimuth [0, 2 pi) x elevation [SKY_TOP, SKY_BOTTOM]:
    a blue gradient with clouds, above a skyline of distant hills and tree lines. It is at
    infinity: it moves with the camera's rotation only, as the far view does in KITTI."""
    elevation = np.linspace(SKY_TOP, SKY_BOTTOM, height)[:, None, None]
    up = np.clip(elevation / SKY_TOP, 0, 1)
    sky = (1 - up) * np.array([0.8, 0.85, 0.9]) + up * np.array([0.45, 0.62, 0.9])
    clouds = np.clip(2.5 * (_periodic_noise(rng, height, width, 24.0) - 0.45), 0, 1)[..., None]
    sky = sky + clouds * (0.95 - sky) * np.clip(3 * up + 0.3, 0, 1)
    # Skyline: hills (a few degrees high) with a ragged tree line on top.
    az = np.linspace(0, 2 * math.pi, width, endpoint=False)
    ridge = np.zeros(width)
    for k in range(1, 120):
        ridge += rng.normal() / k**1.2 * np.sin(k * az + rng.uniform(0, 2 * math.pi))
    ridge = math.radians(1.0) + math.radians(5.0) * (ridge - ridge.min()) / np.ptp(ridge)
    land = elevation[..., 0] < ridge[None, :]
    tone = 0.55 + 0.45 * _periodic_noise(rng, height, width, 160.0)[..., None]
    hills = np.array([0.22, 0.32, 0.2]) * tone
    return np.where(land[..., None], hills, sky)


def sky_view(panorama: np.ndarray, rays: np.ndarray, R_c2w: np.ndarray, width: int, height: int):
    """(height, width, 3) uint8 background: the panorama seen along pixel_rays `rays` by a camera
    with rotation R_c2w."""
    x, y, z = R_c2w @ rays  # world frame, y down
    azimuth = np.mod(np.arctan2(x, z), 2 * math.pi)
    elevation = np.arctan2(-y, np.hypot(x, z))
    rows, cols = panorama.shape[:2]
    col = np.minimum((azimuth / (2 * math.pi) * cols).astype(int), cols - 1)
    row = (SKY_TOP - elevation) / (SKY_TOP - SKY_BOTTOM) * (rows - 1)
    row = np.clip(np.round(row), 0, rows - 1).astype(int)
    return (255 * panorama[row, col].reshape(height, width, 3)).astype(np.uint8)


def render_views(parts, sky, poses: np.ndarray, K: np.ndarray, width: int, height: int):
    """Yield (rgb uint8, depth float32 with 0 = nothing within MAX_RANGE) for each pose, with the
    sky panorama `sky` behind the scene."""
    from posekit.render import Renderer

    sun = np.array([0.4, -0.8, 0.45])  # towards the sun, world frame (y down: the sun is up)
    rays = pixel_rays(K, width, height)
    with Renderer(width, height) as renderer:
        handles = [(renderer.upload(m), np.asarray(anchor)) for m, anchor in parts]
        for T in poses:
            R_w2c = T[:3, :3].T
            t_w2c = -R_w2c @ T[:3, 3]
            cam_xz = np.array([T[0, 3], T[2, 3]])
            visible = [
                (h, R_w2c, t_w2c)
                for h, anchor in handles
                if np.linalg.norm(anchor - cam_xz) < MAX_RANGE + 40.0
            ]
            frame = renderer.render_scene(
                visible, K, 0.1, MAX_RANGE + 60.0, light_dir=R_w2c @ sun, ambient=0.55,
                bg_image=sky_view(sky, rays, T[:3, :3], width, height),
            )  # fmt: skip
            depth = np.where(frame.mask & (frame.depth <= MAX_RANGE), frame.depth, 0.0)
            yield frame.rgb, depth.astype(np.float32)


def render_sequence(out: str, seq: int, n_frames: int, width: int, height: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pos, yaw = drive_path(rng, n_frames)
    poses = camera_to_world(pos, yaw)
    K = intrinsics(width, height)
    seq_dir = kitti.sequence_dir(out, seq)
    img_dir = os.path.join(seq_dir, "image_2")
    depth_dir = os.path.join(seq_dir, "depth_2")
    flow_dir = os.path.join(seq_dir, "flow_2")
    for d in (img_dir, depth_dir, flow_dir):
        os.makedirs(d, exist_ok=True)
    os.makedirs(os.path.join(out, "poses"), exist_ok=True)
    kitti.write_calib(os.path.join(seq_dir, "calib.txt"), calib_for(K))
    kitti.write_times(os.path.join(seq_dir, "times.txt"), np.arange(n_frames) * FRAME_PERIOD)
    kitti.write_poses(kitti.pose_path(out, seq), poses)
    parts = build_street(rng, pos, yaw)
    sky = sky_panorama(rng)
    for i, (rgb, depth) in enumerate(render_views(parts, sky, poses, K, width, height)):
        Image.fromarray(rgb).save(os.path.join(img_dir, f"{i:06d}.png"), compress_level=1)
        kitti.write_depth_png(os.path.join(depth_dir, f"{i:06d}.png"), depth)
        if i + 1 < n_frames:
            T = np.linalg.inv(poses[i + 1]) @ poses[i]
            flow, valid = rigid_flow(depth, K, T)
            kitti.write_flow_png(os.path.join(flow_dir, f"{i:06d}_10.png"), flow, valid)


def add_arguments(parser) -> None:
    parser.add_argument("--out", required=True, help="output root (gets sequences/ and poses/)")
    parser.add_argument(
        "--sequences", type=int, nargs="+", default=[0, 1, 2, 9],
        help="sequence numbers to write (default: 0 1 2 9)",
    )  # fmt: skip
    parser.add_argument("--frames", type=int, default=200, help="frames per sequence")
    parser.add_argument("--width", type=int, default=621, help="image width (KITTI: 1241)")
    parser.add_argument("--height", type=int, default=188, help="image height (KITTI: 376)")
    parser.add_argument("--seed", type=int, default=0, help="random seed")


def run(args) -> None:
    if args.frames < 5:
        raise ValueError(f"--frames must be at least 5 (one 5-frame snippet), got {args.frames}")
    for k, seq in enumerate(args.sequences):
        if not 0 <= seq <= 99:
            raise ValueError(f"--sequences: KITTI sequence numbers are 00-99, got {seq}")
        render_sequence(args.out, seq, args.frames, args.width, args.height, args.seed * 1000 + k)
        print(f"sequence {seq:02d}: {args.frames} frames -> {kitti.sequence_dir(args.out, seq)}")


def generate(out: str, sequences: List[int], frames: int, width: int, height: int, seed: int = 0):
    """Programmatic form of `posekit synth kitti`."""
    import argparse

    run(
        argparse.Namespace(
            out=out, sequences=sequences, frames=frames, width=width, height=height, seed=seed
        )
    )
