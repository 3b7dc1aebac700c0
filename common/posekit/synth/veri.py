"""VeRi + PAMTRI labels: synthetic vehicles rendered with the 36 keypoints, in the real layout.

Each vehicle is a low-poly car (sedan, hatchback, SUV or van proportions; random size, colour,
wheels, lights) built so that PAMTRI's 36 keypoints (posekit.veri) are points of its surface:
wheel hubs, wheel-arch corners, the body's back and front corners, the cabin's window and roof
corners, 18 per side. It is rendered with posekit.render from a raised camera at a random
azimuth (surveillance views), over a random road-like background, and cropped to the vehicle
like a VeRi detection crop. A keypoint is visible (vis 1) when it projects into the crop and
the rendered depth at its pixel is not in front of it (depth test, tolerance 0.1 m); otherwise
vis 0 with its projected position still written, as in the real labels. Layout:

    OUT/annot/label_{train,test}.csv          111 integer columns, no header
    OUT/images/image_{train,test}/VVVV_cCCC_FFFFFFFF_K.jpg

Train and test vehicles have different identities, as in VeRi. With --multitask DIR the same
images are also written as a MultiTaskNet data folder (image_{train,query,test}/ and 112-column
label_{train,query,test}.csv with vehicle, colour and type ids; keypoint confidence = vis), the
input of PoseEstNet's trans step.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from typing import List, Tuple

import numpy as np
from PIL import Image

from posekit import mesh as meshlib
from posekit import veri

# VeRi's colour classes (MultiTaskNet colour ids) and RGB stand-ins.
COLOURS = (
    ("yellow", (0.85, 0.75, 0.15)), ("orange", (0.9, 0.45, 0.1)), ("green", (0.2, 0.55, 0.25)),
    ("gray", (0.5, 0.5, 0.52)), ("red", (0.75, 0.1, 0.1)), ("blue", (0.15, 0.25, 0.7)),
    ("white", (0.92, 0.92, 0.9)), ("golden", (0.75, 0.6, 0.3)), ("brown", (0.4, 0.25, 0.15)),
    ("black", (0.08, 0.08, 0.09)),
)  # fmt: skip
TYPES = ("sedan", "hatchback", "suv", "van")
GLASS = (0.12, 0.15, 0.2)
TYRE = (0.05, 0.05, 0.05)
HUB = (0.6, 0.6, 0.62)
DEPTH_TOLERANCE = 0.1  # m: a surface this much nearer than the keypoint hides it


@dataclass
class Vehicle:
    """One synthetic vehicle: its mesh (metres; x forward, y left, z up) and (36, 3) keypoints."""

    mesh: meshlib.Mesh
    keypoints: np.ndarray
    type_id: int
    colour_id: int
    length: float


def _slab(xs, z_bottom, z_top, half_width, side_colors, top_colors, body_color) -> meshlib.Mesh:
    """A solid between two x-monotone profiles z_bottom(x) < z_top(x), extruded over |y| <= hw.

    Sides, top, bottom and the two end caps have their own vertices, so edges stay sharp.
    side_colors / top_colors: (n, 3) per profile sample; bottom and caps get body_color.
    """
    xs = np.asarray(xs, float)
    n = len(xs)
    parts = []

    def strip(a, b, colors):
        # quads between polylines a[i] and b[i] (each (n, 3)): triangles (a_i, a_i+1, b_i+1, b_i)
        verts = np.concatenate([a, b])
        i = np.arange(n - 1)
        faces = np.concatenate([np.c_[i, i + 1, n + i + 1], np.c_[i, n + i + 1, n + i]])
        cols = np.concatenate([colors, colors])
        parts.append(meshlib.Mesh(verts, faces, cols))

    def line(y, z):
        return np.c_[xs, np.full(n, y), z]

    body = np.tile(np.asarray(body_color, float), (n, 1))
    for s in (1.0, -1.0):
        strip(line(s * half_width, z_bottom), line(s * half_width, z_top), side_colors)
    strip(line(half_width, z_top), line(-half_width, z_top), top_colors)
    strip(line(half_width, z_bottom), line(-half_width, z_bottom), body)
    for i in (0, n - 1):
        cap = [
            [xs[i], half_width, z_bottom[i]],
            [xs[i], half_width, z_top[i]],
            [xs[i], -half_width, z_top[i]],
            [xs[i], -half_width, z_bottom[i]],
        ]
        parts.append(meshlib.Mesh(cap, [[0, 1, 2], [0, 2, 3]], np.tile(body_color, (4, 1))))
    return meshlib.merge(parts)


def _wheel(x, y_outer, radius, side) -> List[meshlib.Mesh]:
    """Tyre and hub as cylinders along y; the hub face (keypoint) lies at y = y_outer."""
    to_y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])  # z axis -> y axis
    width = 0.2
    tyre = meshlib.cylinder(radius, width, 20, color=TYRE)
    hub = meshlib.cylinder(radius * 0.55, 0.02, 16, color=HUB)
    y_tyre = side * (y_outer - 0.01 - width / 2)
    y_hub = side * (y_outer - 0.01)
    return [
        tyre.transformed(to_y, [x, y_tyre, radius]),
        hub.transformed(to_y, [x, y_hub, radius]),
    ]


def make_vehicle(rng: np.random.Generator) -> Vehicle:
    """A random vehicle with its 36 PAMTRI keypoints on the surface."""
    type_id = int(rng.integers(len(TYPES)))
    colour_id = int(rng.integers(len(COLOURS)))
    kind = TYPES[type_id]
    u = rng.uniform
    if kind == "van":
        length, width, radius = u(4.4, 5.2), u(1.8, 2.0), u(0.32, 0.38)
        belt, roof = u(0.95, 1.15), u(1.85, 2.2)
    elif kind == "suv":
        length, width, radius = u(4.3, 4.9), u(1.8, 1.95), u(0.34, 0.4)
        belt, roof = u(1.0, 1.15), u(1.65, 1.85)
    else:
        length, width, radius = u(3.9, 4.9), u(1.65, 1.85), u(0.29, 0.33)
        belt, roof = u(0.8, 0.95), u(1.35, 1.5)
    half_l, half_w = length / 2, width / 2
    clearance = u(0.16, 0.24) + (0.06 if kind in ("suv", "van") else 0.0)
    x_front_wheel = half_l - u(0.75, 1.0)
    x_rear_wheel = -half_l + u(0.6, 0.95)
    arch = radius * 1.18
    back_in, front_in = u(0.1, 0.3), u(0.15, 0.35)  # corners 11 / 16 set in from the ends
    # cabin along x: rear-window bottom (12), roof rear (13), roof front (14), windshield (15)
    if kind == "sedan":
        x12 = -half_l + u(0.8, 1.1)
        x13 = x12 + u(0.45, 0.7)
        x15 = half_l - u(1.4, 1.8)
        x14 = x15 - u(0.7, 0.95)
    elif kind == "hatchback":
        x12 = -half_l + u(0.2, 0.35)
        x13 = x12 + u(0.15, 0.35)
        x15 = half_l - u(1.3, 1.6)
        x14 = x15 - u(0.7, 0.9)
    elif kind == "suv":
        x12 = -half_l + u(0.15, 0.3)
        x13 = x12 + u(0.05, 0.2)
        x15 = half_l - u(1.2, 1.5)
        x14 = x15 - u(0.6, 0.8)
    else:
        x12 = -half_l + u(0.05, 0.15)
        x13 = x12 + u(0.02, 0.08)
        x15 = half_l - u(0.7, 1.0)
        x14 = x15 - u(0.5, 0.8)
    x12 = max(x12, -half_l + back_in + 0.02)
    x15 = min(x15, half_l - front_in - 0.02)
    cabin_half_w = half_w * u(0.84, 0.92)

    # wheel arch corners: where the arch circle meets the sill, and at 60 / 120 degrees
    def arch_points(xw):
        dz = clearance - radius
        dx = math.sqrt(max(arch**2 - dz**2, 1e-6))
        top = [
            (xw + arch * math.cos(math.radians(a)), radius + arch * math.sin(math.radians(a)))
            for a in (60.0, 120.0)
        ]
        return [(xw + dx, clearance), top[0], top[1], (xw - dx, clearance)]

    front_arch = arch_points(x_front_wheel)  # front-bottom, front-top, rear-top, rear-bottom
    rear_arch = arch_points(x_rear_wheel)
    nose, tail = belt - u(0.15, 0.3), belt - u(0.1, 0.25)  # body top at the very ends

    def body_top(x):
        return np.interp(
            x, [-half_l, -half_l + back_in, half_l - front_in, half_l], [tail, belt, belt, nose]
        )

    def body_bottom(x):
        z = np.full_like(np.asarray(x, float), clearance)
        for xw in (x_front_wheel, x_rear_wheel):
            inside = np.abs(x - xw) < arch
            z[inside] = np.maximum(z[inside], radius + np.sqrt(arch**2 - (x[inside] - xw) ** 2))
        return z

    special = [-half_l, half_l, -half_l + back_in, half_l - front_in]
    special += [p[0] for p in front_arch + rear_arch]
    xs = np.unique(np.concatenate([np.linspace(-half_l, half_l, 48), special]))
    body_rgb = np.asarray(COLOURS[colour_id][1]) * u(0.85, 1.1)
    body_rgb = np.clip(body_rgb, 0, 1)
    body_cols = np.tile(body_rgb, (len(xs), 1))
    lower = _slab(xs, body_bottom(xs), body_top(xs), half_w, body_cols, body_cols, body_rgb)

    cxs = np.unique(np.concatenate([np.linspace(x12, x15, 16), [x13, x14]]))
    roof_z = np.interp(cxs, [x12, x13, x14, x15], [belt, roof, roof, belt])
    flat = (cxs >= x13 - 1e-9) & (cxs <= x14 + 1e-9)
    top_cols = np.where(flat[:, None], body_rgb, GLASS)
    cabin = _slab(
        cxs, np.full(len(cxs), belt), roof_z, cabin_half_w, np.tile(GLASS, (len(cxs), 1)),
        top_cols, body_rgb,
    )  # fmt: skip

    parts = [lower, cabin]
    lamp_z = belt - 0.12
    for side in (1.0, -1.0):
        parts += _wheel(x_front_wheel, half_w, radius, side)
        parts += _wheel(x_rear_wheel, half_w, radius, side)
        y_lamp = side * (half_w - 0.22)
        head = meshlib.box([0.06, 0.32, 0.1], color=(1.0, 0.95, 0.75))
        parts.append(head.transformed(np.eye(3), [half_l - 0.01, y_lamp, lamp_z - 0.05]))
        rear_lamp = meshlib.box([0.06, 0.3, 0.12], color=(0.85, 0.05, 0.05))
        parts.append(rear_lamp.transformed(np.eye(3), [-half_l + 0.01, y_lamp, lamp_z]))
    grille = meshlib.box([0.05, width * 0.35, 0.14], color=(0.1, 0.1, 0.1))
    parts.append(grille.transformed(np.eye(3), [half_l, 0.0, lamp_z - 0.12]))
    plate = meshlib.box([0.05, 0.44, 0.14], color=(0.95, 0.85, 0.2))
    parts.append(plate.transformed(np.eye(3), [-half_l, 0.0, clearance + 0.25]))
    mesh = meshlib.merge(parts)

    def side_points(y, yc):
        pts = [
            (x_rear_wheel, y + 0.0, radius),
            (x_front_wheel, y + 0.0, radius),
        ]
        pts += [(x, y, z) for x, z in front_arch]
        pts += [(x, y, z) for x, z in rear_arch]
        pts += [
            (-half_l, y, float(body_bottom(np.array([-half_l]))[0])),
            (-half_l + back_in, y, belt),
            (x12, yc, belt),
            (x13, yc, roof),
            (x14, yc, roof),
            (x15, yc, belt),
            (half_l - front_in, y, belt),
            (half_l, y, float(body_bottom(np.array([half_l]))[0])),
        ]
        return pts

    # hub faces sit 1 cm inside the body side: the wheel keypoints use that y
    left = side_points(half_w, cabin_half_w)
    left[0] = (x_rear_wheel, half_w - 0.01, radius)
    left[1] = (x_front_wheel, half_w - 0.01, radius)
    keypoints = np.array(left + [(x, -y, z) for x, y, z in left], dtype=np.float64)
    return Vehicle(mesh, keypoints, type_id, colour_id, length)


def look_at(eye, target) -> Tuple[np.ndarray, np.ndarray]:
    """World-to-camera (R, t), OpenCV axes, camera at eye looking at target with z up."""
    eye = np.asarray(eye, float)
    forward = np.asarray(target, float) - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    R = np.stack([right, down, forward])
    return R, -R @ eye


def background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Road-like clutter: grey asphalt with noise, lane paint and other vehicles' colour blocks."""
    grey = rng.uniform(60, 150)
    img = np.full((height, width, 3), grey) + rng.normal(0, 8, (1, 1, 3))
    coarse = rng.normal(0, 10, (height // 8 + 1, width // 8 + 1, 1))
    img += np.kron(coarse, np.ones((8, 8, 1)))[:height, :width]
    img += rng.normal(0, 6, (height, width, 1))
    yy, xx = np.mgrid[0:height, 0:width]
    for _ in range(int(rng.integers(0, 3))):
        a, c, w = rng.uniform(-2, 2), rng.uniform(0, width), rng.uniform(2, 6)
        img[np.abs(xx - (c + a * (yy - height / 2))) < w] = rng.choice([230.0, 210.0])
    for _ in range(int(rng.integers(0, 4))):
        x0, y0 = rng.uniform(-0.2, 1.0) * width, rng.uniform(-0.2, 1.0) * height
        w, h = rng.uniform(0.1, 0.5) * width, rng.uniform(0.1, 0.4) * height
        block = (xx >= x0) & (xx < x0 + w) & (yy >= y0) & (yy < y0 + h)
        img[block] = np.asarray(COLOURS[int(rng.integers(len(COLOURS)))][1]) * 255 * 0.8
    return np.clip(img, 0, 255).astype(np.uint8)


def visibility(points_cam, uv, depth, mask, width, height, tol=DEPTH_TOLERANCE) -> np.ndarray:
    """(K,) 0/1: inside the frame and not behind the rendered surface at the keypoint's pixel."""
    vis = np.zeros(len(uv), dtype=np.int64)
    for k, ((u, v), z) in enumerate(zip(uv, points_cam[:, 2])):
        col, row = int(round(u)), int(round(v))
        if not (0 <= col < width and 0 <= row < height) or z <= 0:
            continue
        hidden = mask[row, col] and depth[row, col] < z - tol
        vis[k] = 0 if hidden else 1
    return vis


def render_view(renderer, vehicle: Vehicle, rng, frame: int, azimuth=None, elevation=None):
    """Renders one view -> (crop uint8, keypoints (36, 2) in the crop, vis (36,))."""
    az = rng.uniform(0, 360) if azimuth is None else azimuth
    el = rng.uniform(8, 35) if elevation is None else elevation
    f = frame * rng.uniform(1.1, 1.6)
    distance = f * vehicle.length / (frame * rng.uniform(0.55, 0.8))
    a, e = math.radians(az), math.radians(el)
    target = np.array([0.0, 0.0, 0.7]) + rng.normal(0, 0.1, 3)
    eye = target + distance * np.array([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a),
                                        math.sin(e)])  # fmt: skip
    R, t = look_at(eye, target)
    K = np.array([[f, 0, frame / 2 - 0.5], [0, f, frame / 2 - 0.5], [0, 0, 1.0]])
    light = np.array([rng.uniform(-0.5, 0.5), rng.uniform(-1.0, -0.3), rng.uniform(-1.0, -0.4)])
    out = renderer.render(
        vehicle.mesh, K, R, t, near=0.5, far=distance * 3, light_dir=light,
        ambient=rng.uniform(0.35, 0.6), bg_image=background(rng, frame, frame),
    )  # fmt: skip
    cam = vehicle.keypoints @ R.T + t
    uv = (cam @ K.T)[:, :2] / cam[:, 2:]
    vis = visibility(cam, uv, out.depth, out.mask, frame, frame)
    rows, cols = np.nonzero(out.mask)
    x0, x1, y0, y1 = cols.min(), cols.max() + 1, rows.min(), rows.max() + 1
    mx = rng.uniform(0.02, 0.1) * (x1 - x0)
    my = rng.uniform(0.02, 0.1) * (y1 - y0)
    x0, y0 = max(int(x0 - mx), 0), max(int(y0 - my), 0)
    x1, y1 = min(int(math.ceil(x1 + mx)), frame), min(int(math.ceil(y1 + my)), frame)
    crop = out.rgb[y0:y1, x0:x1]
    points = uv - [x0, y0]
    inside = (points[:, 0] >= 0) & (points[:, 0] <= x1 - x0 - 1)
    inside &= (points[:, 1] >= 0) & (points[:, 1] <= y1 - y0 - 1)
    return crop, points, vis * inside


def write_split(out, split, vehicles, views, rng, renderer, frame, first_frame) -> veri.Labels:
    """Renders `views` images of each vehicle into OUT/images/image_<split>/ and its CSV."""
    folder = veri.image_dir(out, split)
    os.makedirs(folder, exist_ok=True)
    names, sizes, joints, vis = [], [], [], []
    for vid, vehicle in vehicles:
        for view in range(views):
            crop, points, visible = render_view(renderer, vehicle, rng, frame)
            cam = int(rng.integers(1, 21))
            name = f"{vid:04d}_c{cam:03d}_{first_frame + 5 * len(names):08d}_{view % 2}.jpg"
            Image.fromarray(crop).save(os.path.join(folder, name), quality=92)
            names.append(name)
            sizes.append((crop.shape[1], crop.shape[0]))
            joints.append(points)
            vis.append(visible)
    labels = veri.Labels(names, np.array(sizes), np.array(joints), np.array(vis))
    veri.write_labels(veri.label_path(out, split), labels)
    return labels


def write_multitask(out, dest, labels, meta) -> None:
    """The same images as a MultiTaskNet data folder: train as is, each test vehicle's first
    image as the query, the rest as the gallery (test)."""
    test = labels["test"]
    first = {}
    for i, name in enumerate(test.names):
        first.setdefault(name.split("_")[0], i)
    query = sorted(first.values())
    splits = {
        "train": ("train", list(range(len(labels["train"])))),
        "query": ("test", query),
        "test": ("test", [i for i in range(len(test)) if i not in first.values()]),
    }
    for split, (source, subset) in splits.items():
        src = labels[source]
        folder = os.path.join(dest, "image_" + split)
        os.makedirs(folder, exist_ok=True)
        for i in subset:
            name = src.names[i]
            shutil.copyfile(
                os.path.join(veri.image_dir(out, source), name), os.path.join(folder, name)
            )
        table = veri.PoseTable(
            names=[src.names[i] for i in subset],
            points=src.joints[subset].astype(float),
            scores=src.visible[subset].astype(float),
            extra=np.array([meta[src.names[i].split("_")[0]] for i in subset]).reshape(-1, 3),
        )
        veri.write_pose_table(os.path.join(dest, f"label_{split}.csv"), table)


def generate(out, train, test, views=4, frame=160, seed=0, multitask=None) -> dict:
    """Writes `train` and `test` vehicles with `views` images each; returns the label paths."""
    from posekit.render import Renderer  # OpenGL only when rendering

    rng = np.random.default_rng(seed)
    fleet = [(vid, make_vehicle(rng)) for vid in range(1, train + test + 1)]
    meta = {f"{vid:04d}": (vid, v.colour_id, v.type_id) for vid, v in fleet}
    labels = {}
    with Renderer(frame, frame) as renderer:
        labels["train"] = write_split(out, "train", fleet[:train], views, rng, renderer, frame, 10)
        labels["test"] = write_split(out, "test", fleet[train:], views, rng, renderer, frame, 20)
    if multitask:
        write_multitask(out, multitask, labels, meta)
    return {split: veri.label_path(out, split) for split in veri.SPLITS}


def add_arguments(parser) -> None:
    parser.add_argument("--out", required=True, help="output folder (PoseEstNet VeRi layout)")
    parser.add_argument("--train", type=int, default=100, help="training vehicles")
    parser.add_argument("--test", type=int, default=25, help="test vehicles")
    parser.add_argument("--views", type=int, default=4, help="images per vehicle")
    parser.add_argument("--frame", type=int, default=160, help="render size in px (square)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--multitask", default=None, help="also write a MultiTaskNet data folder here"
    )


def run(args) -> None:
    if args.train < 1 or args.test < 1 or args.views < 1:
        raise ValueError("--train, --test and --views must be at least 1")
    if args.frame < 32:
        raise ValueError(f"--frame must be at least 32 px, got {args.frame}")
    paths = generate(
        args.out, args.train, args.test, args.views, args.frame, args.seed, args.multitask
    )
    for split, path in paths.items():
        print(f"{split}: {path}")
