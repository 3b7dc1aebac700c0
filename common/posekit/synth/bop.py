"""BOP: a small 6D-pose data set of textureless objects written in the real BOP layout.

Three objects (PLY models in mm and models_info.json): obj 1 an asymmetric bracket, obj 2 a
box with a centred bump (discrete symmetry: 180 deg about z, as T-LESS obj 5), obj 3 a stepped
cylinder (continuous symmetry about z, as T-LESS obj 1). Layout (bop_toolkit conventions):

    OUT/camera.json, OUT/test_targets_bop19.json
    OUT/models/models_info.json, OUT/models/obj_%06d.ply
    OUT/train/<obj_id %06d>/  one object per image on black, like T-LESS train_primesense
    OUT/test/<scene %06d>/    all objects on a textured table with occluders
each scene with scene_camera.json, scene_gt.json, scene_gt_info.json, rgb/%06d.png,
depth/%06d.png (uint16, depth_scale 0.1 -> mm), mask/ and mask_visib/%06d_%06d.png.
Lighting, backgrounds and poses vary per image; the ground truth is exact (rendered).
"""

from __future__ import annotations

import math
import os
from typing import Dict, List, Tuple

import numpy as np
from PIL import Image

from posekit import bop
from posekit import mesh as meshlib

DEPTH_SCALE = 0.1
OBJ_COLORS = {1: (0.78, 0.55, 0.42), 2: (0.50, 0.62, 0.78), 3: (0.72, 0.72, 0.52)}


def _recentre(m: meshlib.Mesh) -> meshlib.Mesh:
    lo, hi = m.vertices.min(0), m.vertices.max(0)
    return m.transformed(np.eye(3), -(lo + hi) / 2.0)


def make_objects() -> Dict[int, Tuple[meshlib.Mesh, dict]]:
    """obj_id -> (mesh in mm centred on its bounding box, symmetries for models_info)."""
    eye = np.eye(3)
    bracket = meshlib.merge(
        [
            meshlib.box((80, 40, 24)),
            meshlib.box((24, 40, 40)).transformed(eye, (28, 0, 32)),
            meshlib.box((16, 16, 16)).transformed(eye, (-28, 12, 20)),
        ]
    )
    bump_box = meshlib.merge(
        [meshlib.box((70, 44, 36)), meshlib.box((24, 24, 12)).transformed(eye, (0, 0, 24))]
    )
    stepped = meshlib.merge(
        [
            meshlib.cylinder(28, 50, segments=48),
            meshlib.cylinder(16, 16, segments=48).transformed(eye, (0, 0, 33)),
        ]
    )
    rz180 = np.diag([-1.0, -1.0, 1.0, 1.0])
    return {
        1: (_recentre(bracket).with_color(OBJ_COLORS[1]), {}),
        2: (_recentre(bump_box).with_color(OBJ_COLORS[2]), {"symmetries_discrete": [rz180]}),
        3: (
            _recentre(stepped).with_color(OBJ_COLORS[3]),
            {"symmetries_continuous": [{"axis": np.array([0.0, 0, 1]), "offset": np.zeros(3)}]},
        ),
    }


def model_info(m: meshlib.Mesh, syms: dict) -> dict:
    v = m.vertices.astype(np.float64)
    d2 = ((v[:, None, :] - v[None, :, :]) ** 2).sum(-1)
    lo, hi = v.min(0), v.max(0)
    info = {"diameter": float(np.sqrt(d2.max()))}
    for i, ax in enumerate("xyz"):
        info["min_" + ax] = float(lo[i])
        info["size_" + ax] = float(hi[i] - lo[i])
    info["symmetries_discrete"] = syms.get("symmetries_discrete", [])
    info["symmetries_continuous"] = syms.get("symmetries_continuous", [])
    return info


def random_rotation(rng) -> np.ndarray:
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def look_rotation(normal: np.ndarray) -> np.ndarray:
    """A rotation whose z column is `normal` (for orienting the table plane)."""
    z = normal / np.linalg.norm(normal)
    x = np.cross([0.0, 1.0, 0.0], z)
    x /= np.linalg.norm(x)
    return np.stack([x, np.cross(z, x), z], 1)


def random_texture(rng, size: int = 128) -> np.ndarray:
    """A table/background texture: blotches, stripes or a checkerboard in random colours."""
    kind = rng.integers(3)
    c1, c2 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    yy, xx = np.mgrid[0:size, 0:size] / size
    if kind == 0:
        field = np.zeros((size, size))
        for _ in range(6):
            cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.05, 0.3)
            field += np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
        a = (field / field.max())[..., None]
    elif kind == 1:
        ang, freq = rng.uniform(0, np.pi), rng.uniform(3, 12)
        a = (0.5 + 0.5 * np.sin(2 * np.pi * freq * (xx * np.cos(ang) + yy * np.sin(ang))))[
            ..., None
        ]
    else:
        n = int(rng.integers(4, 12))
        a = (((xx * n).astype(int) + (yy * n).astype(int)) % 2)[..., None].astype(float)
    tex = a * c1 + (1 - a) * c2 + rng.normal(0, 8, (size, size, 3))
    return np.clip(tex, 0, 255).astype(np.uint8)


def table_pose(rng):
    """A table plane seen from 25-60 deg above: (normal towards the camera, plane rotation
    whose z column is that normal)."""
    tilt = math.radians(rng.uniform(25, 60))
    normal = np.array([0.0, math.sin(tilt), -math.cos(tilt)])
    return normal, look_rotation(-normal) @ np.diag([1.0, -1.0, -1.0])


def upright_rotation(rng, plane_R) -> np.ndarray:
    """An object standing on the table (its z along the normal), turned about it at random."""
    a = rng.uniform(0, 2 * np.pi)
    return plane_R @ np.array(
        [[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]]
    )


def _bbox(mask: np.ndarray) -> List[int]:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return [-1, -1, 0, 0]
    return [
        int(xs.min()),
        int(ys.min()),
        int(xs.max() - xs.min() + 1),
        int(ys.max() - ys.min() + 1),
    ]


class SceneWriter:
    """Renders frames of one scene and writes them with their ground truth in BOP layout."""

    def __init__(self, renderer, handles, K, path):
        self.r, self.handles, self.K, self.path = renderer, handles, K, path
        self.cams, self.gts, self.infos = {}, {}, {}

    def frame(self, im_id, targets, extras, rng, bg_color=(0, 0, 0), noise=3.0):
        """targets: [(obj_id, R, t)] with ground truth; extras: [(handle, R, t)] clutter."""
        light = np.array([rng.uniform(-1, 1), rng.uniform(-1, 1), -rng.uniform(0.4, 1.5)])
        objects = [(self.handles[o], R, t) for o, R, t in targets] + list(extras)
        out = self.r.render_scene(
            objects,
            self.K,
            50.0,
            5000.0,
            light_dir=light,
            ambient=rng.uniform(0.25, 0.6),
            bg_color=bg_color,
        )
        gain = rng.uniform(0.7, 1.3)
        rgb = out.rgb.astype(np.float64) * gain + rng.normal(0, noise, out.rgb.shape)
        scene = self.path
        Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(
            os.path.join(scene, "rgb", f"{im_id:06d}.png")
        )
        bop.save_depth(os.path.join(scene, "depth", f"{im_id:06d}.png"), out.depth, DEPTH_SCALE)
        gts, infos = [], []
        for k, (obj_id, R, t) in enumerate(targets):
            alone = self.r.render(self.handles[obj_id], self.K, R, t, 50.0, 5000.0)
            visib = out.instance == k + 1
            n_all, n_vis = int(alone.mask.sum()), int(visib.sum())
            for kind, m in (("mask", alone.mask), ("mask_visib", visib)):
                Image.fromarray(m.astype(np.uint8) * 255).save(
                    os.path.join(scene, kind, f"{im_id:06d}_{k:06d}.png")
                )
            gts.append(
                {
                    "cam_R_m2c": np.asarray(R).reshape(-1).tolist(),
                    "cam_t_m2c": np.asarray(t, float).reshape(-1).tolist(),
                    "obj_id": int(obj_id),
                }
            )
            infos.append(
                {
                    "bbox_obj": _bbox(alone.mask),
                    "bbox_visib": _bbox(visib),
                    "px_count_all": n_all,
                    "px_count_valid": int(np.logical_and(alone.mask, out.depth > 0).sum()),
                    "px_count_visib": n_vis,
                    "visib_fract": float(n_vis / n_all) if n_all else 0.0,
                }
            )
        self.cams[str(im_id)] = {"cam_K": self.K.reshape(-1).tolist(), "depth_scale": DEPTH_SCALE}
        self.gts[str(im_id)] = gts
        self.infos[str(im_id)] = infos
        return infos

    def close(self):
        bop.save_json(os.path.join(self.path, "scene_camera.json"), self.cams)
        bop.save_json(os.path.join(self.path, "scene_gt.json"), self.gts)
        bop.save_json(os.path.join(self.path, "scene_gt_info.json"), self.infos)


def _new_scene(root, split, scene_id):
    path = bop.scene_dir(os.path.join(root, split), scene_id)
    for sub in ("rgb", "depth", "mask", "mask_visib"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    return path


def generate(
    out: str,
    train_per_obj: int = 60,
    test_scenes: int = 2,
    test_per_scene: int = 10,
    width: int = 320,
    height: int = 240,
    focal: float = 380.0,
    seed: int = 0,
    upright: bool = False,
) -> dict:
    """Writes the data set; returns counts of written images and ground-truth instances.

    upright: objects stand on their base (z up) on the table and the training views come from
    the same 25-60 deg elevations, a narrower pose range (T-LESS-like tabletop scenes) that a
    network learns in minutes; otherwise poses are uniform over all rotations.
    """
    from posekit.render import Renderer

    rng = np.random.default_rng(seed)
    objects = make_objects()
    K = np.array([[focal, 0, width / 2.0], [0, focal, height / 2.0], [0, 0, 1.0]])
    os.makedirs(os.path.join(out, "models"), exist_ok=True)
    infos = {}
    for obj_id, (m, syms) in objects.items():
        meshlib.save_ply(os.path.join(out, "models", f"obj_{obj_id:06d}.ply"), m)
        infos[obj_id] = model_info(m, syms)
    bop.save_models_info(os.path.join(out, "models", "models_info.json"), infos)
    bop.save_json(
        os.path.join(out, "camera.json"),
        {
            "cx": K[0, 2],
            "cy": K[1, 2],
            "depth_scale": DEPTH_SCALE,
            "fx": focal,
            "fy": focal,
            "height": height,
            "width": width,
        },
    )
    counts = {"train_images": 0, "test_images": 0, "test_instances": 0}
    with Renderer(width, height) as r:
        handles = {o: r.upload(m) for o, (m, _) in objects.items()}
        # Training: one object per image on black, T-LESS style, from all around.
        for obj_id in objects:
            w = SceneWriter(r, handles, K, _new_scene(out, "train", obj_id))
            for im_id in range(train_per_obj):
                t = np.array([rng.uniform(-40, 40), rng.uniform(-30, 30), rng.uniform(450, 650)])
                R = upright_rotation(rng, table_pose(rng)[1]) if upright else random_rotation(rng)
                w.frame(im_id, [(obj_id, R, t)], [], rng)
                counts["train_images"] += 1
            w.close()
        # Test: all objects on a textured table, a clutter box and sometimes an occluder.
        targets = []
        for scene_id in range(1, test_scenes + 1):
            w = SceneWriter(r, handles, K, _new_scene(out, "test", scene_id))
            for im_id in range(test_per_scene):
                normal, plane_R = table_pose(rng)
                Rt = look_rotation(-normal)
                centre = np.array([0.0, 0.0, rng.uniform(520, 620)])
                tex = random_texture(rng)
                table = meshlib.plane(2000, 2000, (8, 8), texture=tex)
                extras = [(table, plane_R, centre)]
                placed = []
                for _ in objects:
                    for _ in range(50):
                        off = Rt @ np.array([rng.uniform(-90, 90), rng.uniform(-70, 70), 0.0])
                        if all(np.linalg.norm(off - p) > 45 for p in placed):
                            break
                    placed.append(off)
                clutter = meshlib.box(rng.uniform(20, 50, 3), color=rng.uniform(0.3, 0.9, 3))
                off = Rt @ np.array([rng.uniform(-110, 110), rng.uniform(-80, 80), 0.0])
                extras.append((clutter, random_rotation(rng), centre + off + 25 * normal))
                if rng.uniform() < 0.5:
                    occ = meshlib.box(
                        (rng.uniform(15, 35), rng.uniform(60, 120), 15),
                        color=rng.uniform(0.2, 0.9, 3),
                    )
                    ang = rng.uniform(-0.5, 0.5)
                    Ro = np.array(
                        [
                            [math.cos(ang), -math.sin(ang), 0],
                            [math.sin(ang), math.cos(ang), 0],
                            [0, 0, 1],
                        ]
                    )
                    p = placed[int(rng.integers(len(placed)))]
                    extras.append(
                        (occ, Ro, centre + p + normal * 120 + [rng.uniform(-30, 30), 0, 0])
                    )
                if upright:
                    tg = [
                        (o, upright_rotation(rng, plane_R), centre + p - infos[o]["min_z"] * normal)
                        for o, p in zip(objects, placed)
                    ]
                else:
                    tg = [
                        (o, random_rotation(rng), centre + p + 30 * normal)
                        for o, p in zip(objects, placed)
                    ]
                frame_infos = w.frame(im_id, tg, extras, rng)
                for (obj_id, _, _), info in zip(tg, frame_infos):
                    if info["visib_fract"] >= 0.1:
                        targets.append(
                            {
                                "im_id": im_id,
                                "inst_count": 1,
                                "obj_id": obj_id,
                                "scene_id": scene_id,
                            }
                        )
                        counts["test_instances"] += 1
                counts["test_images"] += 1
            w.close()
        bop.save_json(os.path.join(out, "test_targets_bop19.json"), targets)
    return counts


def add_arguments(parser) -> None:
    parser.add_argument("--out", required=True, help="output folder (BOP layout)")
    parser.add_argument("--train-per-obj", type=int, default=60, help="training images per object")
    parser.add_argument("--test-scenes", type=int, default=2, help="test scenes")
    parser.add_argument("--test-per-scene", type=int, default=10, help="test images per scene")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--focal", type=float, default=380.0, help="fx = fy in pixels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--upright", action="store_true", help="objects stand on the table; views from above"
    )


def run(args) -> None:
    if min(args.train_per_obj, args.test_scenes, args.test_per_scene) < 1:
        raise ValueError("--train-per-obj, --test-scenes and --test-per-scene must be at least 1")
    counts = generate(
        args.out,
        args.train_per_obj,
        args.test_scenes,
        args.test_per_scene,
        args.width,
        args.height,
        args.focal,
        args.seed,
        args.upright,
    )
    print(", ".join(f"{k} {v}" for k, v in counts.items()) + f" -> {args.out}")
