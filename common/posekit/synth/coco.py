"""COCO person keypoints: synthetic articulated people written as real COCO images and json.

Each image has a textured background, one to several stick-and-blob people with the 17 COCO
joints, random
occluders, and sometimes tiny unlabelled people (num_keypoints 0, as COCO has). Layout:

    OUT/annotations/person_keypoints_{train,val}2017.json
    OUT/{train,val}2017/%012d.jpg
    OUT/person_detection_results/COCO_val2017_detections_AP_H_56_person.json

Appearance never tells left from right by itself, as with real people: each arm and each leg
gets its own random colour (lower segment darker) whatever its side, and the side follows from
which way the person faces (a face with eyes and nose, or hair seen from behind). So a mirrored
image is again a valid image with left and right labels swapped, which flip augmentation and
the flip test rely on.

Keypoint visibility follows COCO: 2 visible, 1 covered by another person or an occluder,
0 outside the image or a face point of a person seen from behind (stored as 0, 0, 0). The
segmentation is the person's visible mask as uncompressed RLE, `area` its pixel count and
`bbox` its tight box. The detection file holds jittered copies of the val boxes with scores,
some duplicates, a few misses and low-scored false positives, like a real person detector's.
"""

from __future__ import annotations

import colorsys
import json
import math
import os
from typing import List, Optional, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from posekit.coco import PERSON_CATEGORY

DETECTIONS_NAME = "COCO_val2017_detections_AP_H_56_person.json"
# limbs drawn as thick segments: (joint a, joint b, limb, lower segment)
LIMBS = [(5, 7, 0, False), (7, 9, 0, True), (6, 8, 1, False), (8, 10, 1, True),
         (11, 13, 2, False), (13, 15, 2, True), (12, 14, 3, False), (14, 16, 3, True)]  # fmt: skip


def _rot(v: np.ndarray, deg: float) -> np.ndarray:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([c * v[0] - s * v[1], s * v[0] + c * v[1]])


def _color(rng: np.random.Generator, hue: Optional[float] = None) -> Tuple[int, int, int]:
    h = rng.uniform(0, 1) if hue is None else (hue + rng.uniform(-0.04, 0.04)) % 1.0
    s = rng.uniform(0.55, 1.0) if hue is not None else rng.uniform(0.1, 0.9)
    v = rng.uniform(0.55, 1.0) if hue is not None else rng.uniform(0.2, 0.95)
    return tuple(int(round(255 * c)) for c in colorsys.hsv_to_rgb(h, s, v))


def person_joints(rng: np.random.Generator, pelvis: np.ndarray, height: float):
    """Random articulated pose -> (17, 2) joints, facing (cos of yaw; < 0 seen from behind)."""
    # mostly upright, as most people in photographs; now and then bent over or lying
    lean = rng.normal(0, 8) if rng.uniform() > 0.08 else rng.uniform(-90, 90)
    up = _rot(np.array([0.0, -1.0]), lean)
    right = _rot(np.array([1.0, 0.0]), lean)
    down = -up
    yaw = rng.uniform(-65, 65) + (180 if rng.uniform() < 0.3 else 0)
    facing = math.cos(math.radians(yaw))
    side = math.sin(math.radians(yaw))
    j = np.zeros((17, 2))
    neck = pelvis + up * 0.30 * height
    # person's left is on the image right when facing the camera (facing > 0)
    j[5] = neck + right * 0.12 * height * facing
    j[6] = neck - right * 0.12 * height * facing
    j[11] = pelvis + right * 0.08 * height * facing
    j[12] = pelvis - right * 0.08 * height * facing
    for s_idx, e_idx, w_idx, out_sign in ((5, 7, 9, 1.0), (6, 8, 10, -1.0)):
        out = out_sign * (1 if facing >= 0 else -1)
        raised = rng.uniform() < 0.15  # an arm up or out now and then
        a = (rng.uniform(60, 170) if raised else rng.normal(15, 20)) * out
        j[e_idx] = j[s_idx] + _rot(down, a) * 0.17 * height
        bend = rng.uniform(0, 120) * (1 if rng.uniform() < 0.5 else -1)
        j[w_idx] = j[e_idx] + _rot(down, a + bend) * 0.15 * height
    for h_idx, k_idx, a_idx, out_sign in ((11, 13, 15, 1.0), (12, 14, 16, -1.0)):
        out = out_sign * (1 if facing >= 0 else -1)
        a = rng.normal(6, 12) * out
        j[k_idx] = j[h_idx] + _rot(down, a) * 0.24 * height
        j[a_idx] = j[k_idx] + _rot(down, a - rng.uniform(0, 60) * out) * 0.23 * height
    head = neck + up * 0.11 * height
    j[0] = head + right * 0.035 * height * side - up * 0.01 * height
    j[1] = head + right * (0.025 * facing + 0.03 * side) * height + up * 0.015 * height
    j[2] = head + right * (-0.025 * facing + 0.03 * side) * height + up * 0.015 * height
    j[3] = head + right * 0.06 * height * facing
    j[4] = head - right * 0.06 * height * facing
    return j, facing, head


def draw_person(
    draw: ImageDraw.ImageDraw, mask: ImageDraw.ImageDraw, rng, joints, facing, head, height: float
) -> None:
    """Draws one figure on the image and (as 255) on its own mask."""
    torso = _color(rng)
    skin = _color(rng, hue=0.07)
    # two arm hues and two leg hues, far apart, assigned to the sides at random
    arm, leg = rng.uniform(0, 1, 2)
    hues = [arm, arm + rng.uniform(0.3, 0.7), leg, leg + rng.uniform(0.3, 0.7)]
    if rng.uniform() < 0.5:
        hues[0], hues[1] = hues[1], hues[0]
    if rng.uniform() < 0.5:
        hues[2], hues[3] = hues[3], hues[2]
    limb_colors = [_color(rng, hue=h % 1.0) for h in hues]
    wide = max(2, int(round(0.075 * height)))

    def both(fn, xy, fill, **kw):
        getattr(draw, fn)(xy, fill=fill, **kw)
        getattr(mask, fn)(xy, fill=255, **kw)

    # torso a little wider than the joints, so shoulders and hips sit inside the body
    mid = joints[[5, 6, 12, 11]].mean(axis=0)
    quad = [tuple(mid + 1.15 * (joints[i] - mid)) for i in (5, 6, 12, 11)]
    both("polygon", quad, torso)
    for a, b, limb, lower in LIMBS:
        color = limb_colors[limb]
        if lower:
            color = tuple(int(c * 0.7) for c in color)
        width = max(2, int(round(wide * 0.8))) if lower else wide
        both("line", [tuple(joints[a]), tuple(joints[b])], color, width=width)
        r = width / 2
        for p in (joints[a], joints[b]):
            both("ellipse", [p[0] - r, p[1] - r, p[0] + r, p[1] + r], color)
    # hands (skin) and shoes (dark) mark the wrists and ankles, as on real people
    shoe = tuple(int(c * 0.3) for c in _color(rng))
    for k, color, r in ((9, skin, 0.032), (10, skin, 0.032), (15, shoe, 0.035), (16, shoe, 0.035)):
        p, r = joints[k], r * height
        both("ellipse", [p[0] - r, p[1] - r, p[0] + r, p[1] + r], color)
    hr = 0.07 * height
    both("ellipse", [head[0] - hr, head[1] - hr, head[0] + hr, head[1] + hr], skin)
    dot = max(1.0, 0.012 * height)
    hair = _color(rng, hue=0.08)
    hair = tuple(int(c * 0.4) for c in hair)
    if facing <= 0:  # seen from behind: the back of the head is hair
        draw.ellipse([head[0] - hr * 0.9, head[1] - hr * 0.9, head[0] + hr * 0.9,
                      head[1] + hr * 0.9], fill=hair)  # fmt: skip
    else:  # a fringe on top, the face below
        draw.chord([head[0] - hr, head[1] - hr, head[0] + hr, head[1] + hr], 180, 360, fill=hair)
    ear_color = tuple(int(c * 0.85) for c in skin)
    for k in (3, 4):
        p = joints[k]
        r = dot * 1.5
        both("ellipse", [p[0] - r, p[1] - r, p[0] + r, p[1] + r], ear_color)
    if facing > 0:
        for k, color in ((1, (30, 30, 30)), (2, (30, 30, 30)), (0, (150, 40, 40))):
            p = joints[k]
            draw.ellipse([p[0] - dot, p[1] - dot, p[0] + dot, p[1] + dot], fill=color)


def background(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """Vertical two-colour gradient + smooth noise + clutter shapes."""
    top = np.array(_color(rng), float)
    bottom = np.array(_color(rng), float)
    t = np.linspace(0, 1, height)[:, None, None]
    img = top * (1 - t) + bottom * t + np.zeros((1, width, 1))
    noise = rng.normal(0, 1, (height // 8 + 1, width // 8 + 1, 3))
    noise = np.kron(noise, np.ones((8, 8, 1)))[:height, :width]
    img = np.clip(img + 25 * noise, 0, 255).astype(np.uint8)
    pil = Image.fromarray(img).filter(ImageFilter.GaussianBlur(2))
    draw = ImageDraw.Draw(pil)
    for _ in range(rng.integers(3, 12)):
        x0, y0 = rng.uniform(0, width), rng.uniform(0, height)
        x1, y1 = x0 + rng.uniform(-width / 3, width / 3), y0 + rng.uniform(-height / 3, height / 3)
        box = [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]
        kind = rng.integers(3)
        if kind == 0:
            draw.rectangle(box, fill=_color(rng))
        elif kind == 1:
            draw.ellipse(box, fill=_color(rng))
        else:
            draw.line([x0, y0, x1, y1], fill=_color(rng), width=int(rng.integers(1, 6)))
    return pil


def rle_counts(mask: np.ndarray) -> List[int]:
    """Uncompressed COCO RLE of a binary mask: run lengths in column-major order, zeros first."""
    flat = mask.T.ravel().astype(np.int8)
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(bounds).tolist()
    if flat.size and flat[0] == 1:
        runs = [0] + runs
    return [int(r) for r in runs]


def make_image(rng: np.random.Generator, max_people: int, occlusion: float):
    """One image -> (uint8 HxWx3, list of annotations without ids)."""
    width = int(rng.integers(320, 481))
    height = int(rng.integers(240, 361))
    pil = background(rng, width, height)
    draw = ImageDraw.Draw(pil)
    people = []
    for _ in range(int(rng.integers(1, max_people + 1))):
        size = rng.uniform(0.45, 0.95) * height
        pelvis = np.array([rng.uniform(0.1, 0.9) * width, rng.uniform(0.35, 0.75) * height])
        pelvis[1] += 0.1 * size
        people.append((size, pelvis, True))
    if rng.uniform() < 0.3:
        size = rng.uniform(12, 28)
        people.append((size, np.array([rng.uniform(0, width), rng.uniform(0, height)]), False))
    masks, records = [], []
    for size, pelvis, labelled in people:
        joints, facing, head = person_joints(rng, pelvis, size)
        mask_img = Image.new("L", (width, height), 0)
        draw_person(draw, ImageDraw.Draw(mask_img), rng, joints, facing, head, size)
        masks.append(np.asarray(mask_img) > 0)
        records.append((joints, facing, labelled))
    occluders = np.zeros((height, width), bool)
    if rng.uniform() < occlusion:
        for _ in range(int(rng.integers(1, 3))):
            w, h = rng.uniform(0.1, 0.35) * width, rng.uniform(0.1, 0.35) * height
            x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
            draw.rectangle([x, y, x + w, y + h], fill=_color(rng))
            occluders[int(y) : int(math.ceil(y + h)), int(x) : int(math.ceil(x + w))] = True
    anns = []
    for i, (joints, facing, labelled) in enumerate(records):
        covered = occluders.copy()
        for later in masks[i + 1 :]:
            covered |= later
        visible = masks[i] & ~covered
        area = int(visible.sum())
        if area == 0:
            continue
        ys, xs = np.nonzero(visible)
        bbox = [
            float(xs.min()),
            float(ys.min()),
            float(xs.max() - xs.min() + 1),
            float(ys.max() - ys.min() + 1),
        ]
        kpts = np.zeros((17, 3))
        if labelled:
            for k in range(17):
                x, y = joints[k]
                if not (0 <= x <= width - 1 and 0 <= y <= height - 1):
                    continue
                if k <= 2 and facing <= 0:
                    continue  # face points of a person seen from behind are not labelled
                occluded = covered[int(round(y)), int(round(x))]
                kpts[k] = (round(x, 2), round(y, 2), 1 if occluded else 2)
        anns.append(
            {
                "segmentation": {"counts": rle_counts(visible), "size": [height, width]},
                "num_keypoints": int((kpts[:, 2] > 0).sum()),
                "area": float(area),
                "iscrowd": 0,
                "keypoints": [float(v) if v % 1 else int(v) for v in kpts.ravel()],
                "bbox": bbox,
                "category_id": 1,
            }
        )
    return np.asarray(pil), anns


def jitter_detections(rng: np.random.Generator, annotations: List[dict], images: List[dict]):
    """Person-detector-like boxes for the annotated people (see the module docstring)."""
    dets = []
    sizes = {img["id"]: (img["width"], img["height"]) for img in images}
    for ann in annotations:
        if ann["num_keypoints"] == 0 or rng.uniform() < 0.03:
            continue
        x, y, w, h = ann["bbox"]
        for copy_idx in range(1 + int(rng.uniform() < 0.3)):
            cx = x + w / 2 + rng.normal(0, 0.04) * w
            cy = y + h / 2 + rng.normal(0, 0.04) * h
            nw, nh = w * math.exp(rng.normal(0, 0.07)), h * math.exp(rng.normal(0, 0.07))
            score = rng.uniform(0.6, 1.0) if copy_idx == 0 else rng.uniform(0.1, 0.5)
            dets.append(
                {
                    "bbox": [
                        round(cx - nw / 2, 2),
                        round(cy - nh / 2, 2),
                        round(nw, 2),
                        round(nh, 2),
                    ],
                    "category_id": 1,
                    "image_id": ann["image_id"],
                    "score": round(float(score), 5),
                }
            )
    for image_id, (width, height) in sizes.items():
        if rng.uniform() < 0.2:
            w, h = rng.uniform(20, width / 3), rng.uniform(40, height / 2)
            dets.append(
                {
                    "bbox": [
                        round(rng.uniform(0, width - w), 2),
                        round(rng.uniform(0, height - h), 2),
                        round(w, 2),
                        round(h, 2),
                    ],
                    "category_id": 1,
                    "image_id": image_id,
                    "score": round(float(rng.uniform(0.02, 0.3)), 5),
                }
            )
    return dets


def write_split(out: str, split: str, count: int, first_id: int, rng, max_people, occlusion):
    """Writes OUT/<split>2017/*.jpg and its json; returns (images, annotations)."""
    img_dir = os.path.join(out, split + "2017")
    os.makedirs(img_dir, exist_ok=True)
    images, annotations = [], []
    for n in range(count):
        image_id = first_id + n
        pixels, anns = make_image(rng, max_people, occlusion)
        name = f"{image_id:012d}.jpg"
        Image.fromarray(pixels).save(os.path.join(img_dir, name), quality=95)
        images.append(
            {"file_name": name, "height": pixels.shape[0], "width": pixels.shape[1], "id": image_id}
        )
        for ann in anns:
            ann.update(image_id=image_id, id=len(annotations) + 1 + first_id * 100)
            annotations.append(ann)
    data = {
        "info": {"description": "posekit synthetic COCO person keypoints", "version": "1.0"},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [PERSON_CATEGORY],
    }
    ann_dir = os.path.join(out, "annotations")
    os.makedirs(ann_dir, exist_ok=True)
    path = os.path.join(ann_dir, f"person_keypoints_{split}2017.json")
    with open(path + ".part", "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(path + ".part", path)
    return images, annotations


def generate(
    out: str, train: int, val: int, seed: int = 0, max_people: int = 3, occlusion: float = 0.4
) -> dict:
    """Writes the whole data set; returns the paths of the two jsons and the detection file."""
    rng = np.random.default_rng(seed)
    write_split(out, "train", train, 1, rng, max_people, occlusion)
    images, annotations = write_split(out, "val", val, 1000000, rng, max_people, occlusion)
    det_dir = os.path.join(out, "person_detection_results")
    os.makedirs(det_dir, exist_ok=True)
    det_path = os.path.join(det_dir, DETECTIONS_NAME)
    with open(det_path, "w", encoding="utf-8") as f:
        json.dump(jitter_detections(rng, annotations, images), f)
    return {
        "train": os.path.join(out, "annotations", "person_keypoints_train2017.json"),
        "val": os.path.join(out, "annotations", "person_keypoints_val2017.json"),
        "detections": det_path,
    }


def add_arguments(parser) -> None:
    parser.add_argument("--out", required=True, help="output folder (COCO layout)")
    parser.add_argument("--train", type=int, default=200, help="training images")
    parser.add_argument("--val", type=int, default=50, help="validation images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-people", type=int, default=3, help="labelled people per image")
    parser.add_argument("--occlusion", type=float, default=0.4, help="chance of occluders")


def run(args) -> None:
    if args.train < 1 or args.val < 1 or args.max_people < 1:
        raise ValueError("--train, --val and --max-people must be at least 1")
    paths = generate(args.out, args.train, args.val, args.seed, args.max_people, args.occlusion)
    for name, path in paths.items():
        print(f"{name}: {path}")
