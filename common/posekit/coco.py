"""COCO person keypoints: reader, detection boxes, results writer, OKS, OKS-NMS, evaluation.

Formats (DESIGN.md section 4): `person_keypoints_{train,val}2017.json` with keypoints as
(x, y, v) triples, v 0 unlabelled / 1 occluded / 2 visible, bbox (x, y, w, h); person detection
files as a json list of {image_id, category_id, bbox, score}; results as a json list of
{image_id, category_id: 1, keypoints: [x, y, score] * 17, score}.

pycocotools is imported only inside `evaluate`, so everything else runs without it.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
from typing import Dict, List, Optional, Sequence

import numpy as np

KEYPOINT_NAMES = [
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
]
NUM_JOINTS = 17
# per-keypoint OKS constants of the COCO keypoint evaluation (cocodataset.org/#keypoints-eval)
SIGMAS = np.array([0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62,
                   1.07, 1.07, 0.87, 0.87, 0.89, 0.89]) / 10.0  # fmt: skip
FLIP_PAIRS = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)]
# the 'skeleton' of the person category in the official json, made 0-based
SKELETON = [(15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6),
            (5, 7), (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5),
            (4, 6)]  # fmt: skip
PERSON_CATEGORY = {
    "supercategory": "person",
    "id": 1,
    "name": "person",
    "keypoints": KEYPOINT_NAMES,
    "skeleton": [[a + 1, b + 1] for a, b in SKELETON],
}
# names COCOeval.summarize() prints, in the order of its stats vector
STAT_NAMES = ["AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl"]


class CocoFormatError(ValueError):
    """A COCO file does not have the expected structure; the message names file and field."""


def _load_json(path: str):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as exc:
        raise CocoFormatError(f"{path}: not valid JSON ({exc})") from exc


def _numbers(value, count: int, where: str) -> np.ndarray:
    """`value` as a float array of exactly `count` numbers, else a CocoFormatError at `where`."""
    ok = isinstance(value, (list, tuple)) and len(value) == count
    if ok:
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            ok = False
    if not ok or not np.all(np.isfinite(arr)):
        raise CocoFormatError(f"{where}: expected a list of {count} finite numbers, got {value!r}")
    return arr


def _field(record: dict, name: str, where: str):
    if not isinstance(record, dict) or name not in record:
        raise CocoFormatError(f"{where}: missing field '{name}'")
    return record[name]


def clean_box(box: Sequence[float], width: int, height: int) -> Optional[np.ndarray]:
    """(x, y, w, h) clamped to the image, or None if nothing is left.

    The reference clamps the left/top edge but then measures the right/bottom edge from the
    clamped one, so a box starting left of the image grows; here both edges stay put.
    """
    x, y, w, h = (float(v) for v in box)
    x1, y1 = max(0.0, x), max(0.0, y)
    x2 = min(width - 1.0, x + max(0.0, w - 1.0))
    y2 = min(height - 1.0, y + max(0.0, h - 1.0))
    if x2 < x1 or y2 < y1:
        return None
    return np.array([x1, y1, x2 - x1, y2 - y1])


def read_person_keypoints(path: str, num_joints: int = NUM_JOINTS):
    """Reads a person_keypoints json -> (images, people).

    images: {image_id: {"file_name", "width", "height"}} for every image in the file.
    people: list of {"id", "image_id", "bbox" (clamped x, y, w, h), "keypoints" (K, 3), "area"},
    skipping crowd regions, people with no labelled keypoint and boxes with nothing inside the
    image, as the reference's training set does.
    """
    data = _load_json(path)
    if not isinstance(data, dict):
        raise CocoFormatError(f"{path}: expected a JSON object with 'images' and 'annotations'")
    images: Dict[int, dict] = {}
    for i, img in enumerate(_field(data, "images", path)):
        where = f"{path}: images[{i}]"
        image_id = _field(img, "id", where)
        width, height = _field(img, "width", where), _field(img, "height", where)
        if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
            raise CocoFormatError(f"{where}: width/height must be positive integers")
        images[image_id] = {
            "file_name": str(_field(img, "file_name", where)),
            "width": width,
            "height": height,
        }
    people = []
    for i, ann in enumerate(_field(data, "annotations", path)):
        where = f"{path}: annotations[{i}]"
        if ann.get("category_id", 1) != 1 or ann.get("iscrowd", 0):
            continue
        image_id = _field(ann, "image_id", where)
        if image_id not in images:
            raise CocoFormatError(f"{where}: image_id {image_id!r} is not in 'images'")
        kpts = _numbers(_field(ann, "keypoints", where), 3 * num_joints, where + ".keypoints")
        kpts = kpts.reshape(num_joints, 3)
        if kpts.max() == 0:
            continue
        img = images[image_id]
        box = _numbers(_field(ann, "bbox", where), 4, where + ".bbox")
        box = clean_box(box, img["width"], img["height"])
        area = float(_field(ann, "area", where))
        if box is None or area <= 0:
            continue
        people.append(
            {
                "id": ann.get("id"),
                "image_id": image_id,
                "bbox": box,
                "keypoints": kpts,
                "area": area,
            }
        )
    return images, people


def read_detections(path: str, min_score: float = 0.0) -> List[dict]:
    """Person detections json -> list of {"image_id", "bbox" (x, y, w, h), "score"}.

    Keeps category 1 with score >= min_score (the reference's IMAGE_THRE).
    """
    data = _load_json(path)
    if not isinstance(data, list):
        raise CocoFormatError(f"{path}: expected a JSON list of detections")
    out = []
    for i, det in enumerate(data):
        where = f"{path}: [{i}]"
        if _field(det, "category_id", where) != 1:
            continue
        score = float(_field(det, "score", where))
        if score < min_score:
            continue
        box = _numbers(_field(det, "bbox", where), 4, where + ".bbox")
        out.append({"image_id": _field(det, "image_id", where), "bbox": box, "score": score})
    return out


def write_results(path: str, results: Sequence[dict]) -> None:
    """Writes the results json atomically; each result has image_id, keypoints (K, 3), score."""
    rows = [
        {
            "image_id": r["image_id"],
            "category_id": 1,
            "keypoints": [round(float(v), 3) for v in np.asarray(r["keypoints"]).ravel()],
            "score": float(r["score"]),
        }
        for r in results
    ]
    tmp = path + ".part"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(rows, f)
    os.replace(tmp, path)


def oks(
    gt_keypoints: np.ndarray,
    gt_area: float,
    det_keypoints: np.ndarray,
    sigmas: np.ndarray = SIGMAS,
) -> np.ndarray:
    """OKS of detections (N, K, >=2) against one ground truth (K, 3) as COCOeval computes it.

    Averages exp(-d^2 / (2 area (2 sigma)^2)) over the ground truth's labelled joints (v > 0).
    A ground truth with no labelled joint is ignored by COCOeval; here it scores 0.
    """
    gt = np.asarray(gt_keypoints, dtype=np.float64)
    det = np.asarray(det_keypoints, dtype=np.float64).reshape(-1, gt.shape[0], gt.shape[1])
    labelled = gt[:, 2] > 0
    if not labelled.any():
        return np.zeros(det.shape[0])
    var = (2 * np.asarray(sigmas)) ** 2
    d2 = (det[..., 0] - gt[:, 0]) ** 2 + (det[..., 1] - gt[:, 1]) ** 2
    e = d2 / var / (gt_area + np.spacing(1)) / 2
    return np.exp(-e[:, labelled]).mean(axis=1)


def oks_between(
    ref: np.ndarray,
    ref_area: float,
    others: np.ndarray,
    other_areas: np.ndarray,
    sigmas: np.ndarray = SIGMAS,
    vis_thresh: Optional[float] = None,
) -> np.ndarray:
    """OKS of one predicted pose (K, 3) with N others (N, K, 3), used by OKS-NMS.

    The area is the mean of the two; with `vis_thresh`, only joints whose score exceeds it in
    both poses count (the reference meant this, but its `list and list` kept only the second
    pose's mask). A pair with no such joint has OKS 0.
    """
    ref = np.asarray(ref, dtype=np.float64)
    others = np.asarray(others, dtype=np.float64).reshape(-1, ref.shape[0], 3)
    var = (2 * np.asarray(sigmas)) ** 2
    d2 = (others[..., 0] - ref[:, 0]) ** 2 + (others[..., 1] - ref[:, 1]) ** 2
    area = (ref_area + np.asarray(other_areas, dtype=np.float64)) / 2
    e = d2 / var / (area[:, None] + np.spacing(1)) / 2
    if vis_thresh is None:
        return np.exp(-e).mean(axis=1)
    mask = (ref[:, 2] > vis_thresh)[None, :] & (others[..., 2] > vis_thresh)
    count = mask.sum(axis=1)
    total = (np.exp(-e) * mask).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


def oks_nms(
    keypoints: np.ndarray,
    scores: np.ndarray,
    areas: np.ndarray,
    thresh: float,
    sigmas: np.ndarray = SIGMAS,
    vis_thresh: Optional[float] = None,
) -> List[int]:
    """Greedy NMS on poses: keep the best, drop every pose with OKS > thresh to it, repeat.

    Returns the kept indices, best score first.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    areas = np.asarray(areas, dtype=np.float64)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size > 0:
        i = order[0]
        keep.append(int(i))
        rest = order[1:]
        if rest.size == 0:
            break
        overlap = oks_between(
            keypoints[i], areas[i], keypoints[rest], areas[rest], sigmas, vis_thresh
        )
        order = rest[overlap <= thresh]
    return keep


def rescore(maxvals: np.ndarray, box_scores: np.ndarray, vis_thresh: float = 0.2) -> np.ndarray:
    """Pose score = mean of the joint confidences above vis_thresh (0 if none) x box score."""
    maxvals = np.asarray(maxvals, dtype=np.float64)
    confident = maxvals > vis_thresh
    count = confident.sum(axis=1)
    mean = np.where(count > 0, (maxvals * confident).sum(axis=1) / np.maximum(count, 1), 0.0)
    return mean * np.asarray(box_scores, dtype=np.float64)


def topdown_results(
    image_ids: Sequence,
    coords: np.ndarray,
    maxvals: np.ndarray,
    scales: np.ndarray,
    box_scores: np.ndarray,
    oks_thresh: float = 0.9,
    vis_thresh: float = 0.2,
    sigmas: np.ndarray = SIGMAS,
    pixel_std: float = 200.0,
) -> List[dict]:
    """Per-box predictions -> rescored, per-image OKS-NMS'd results ready for `write_results`.

    coords (N, K, 2) in image pixels, maxvals (N, K), scales (N, 2) of the padded boxes (their
    area is the pose area for NMS, as the reference), box_scores (N,).
    """
    coords = np.asarray(coords, dtype=np.float64)
    maxvals = np.asarray(maxvals, dtype=np.float64)
    scores = rescore(maxvals, box_scores, vis_thresh)
    areas = np.prod(np.asarray(scales, dtype=np.float64), axis=1) * pixel_std**2
    kpts = np.concatenate([coords, maxvals[..., None]], axis=2)
    by_image: Dict[object, List[int]] = {}
    for i, image_id in enumerate(image_ids):
        by_image.setdefault(image_id, []).append(i)
    results = []
    for image_id, idx in by_image.items():
        idx = np.asarray(idx)
        keep = oks_nms(kpts[idx], scores[idx], areas[idx], oks_thresh, sigmas, vis_thresh)
        for j in keep:
            results.append(
                {"image_id": image_id, "keypoints": kpts[idx[j]], "score": scores[idx[j]]}
            )
    return results


def evaluate(gt_path: str, results, use_gt_bbox: bool, sigmas: Optional[np.ndarray] = None) -> dict:
    """COCO keypoint AP through pycocotools COCOeval(iouType='keypoints').

    `results` is a results json path or a list of result dicts (as `write_results` takes, or
    already flattened). Returns AP, AP50, AP75, APm, APl, AR, AR50, AR75, ARm, ARl, the
    `boxes` used ("ground truth" or "detections") and COCOeval's printed `summary`.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    if isinstance(results, str):
        rows = _load_json(results)
    else:
        rows = [
            dict(r, keypoints=[float(v) for v in np.asarray(r["keypoints"]).ravel()], category_id=1)
            for r in results
        ]
    if not rows:
        raise ValueError("no predictions to evaluate: the results list is empty")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        coco_gt = COCO(gt_path)
        coco_dt = coco_gt.loadRes(copy.deepcopy(rows))
        coco_eval = COCOeval(coco_gt, coco_dt, iouType="keypoints")
        if sigmas is not None:
            coco_eval.params.kpt_oks_sigmas = np.asarray(sigmas)
        coco_eval.evaluate()
        coco_eval.accumulate()
        summary = io.StringIO()
        with contextlib.redirect_stdout(summary):
            coco_eval.summarize()
    out = {name: float(v) for name, v in zip(STAT_NAMES, coco_eval.stats)}
    out["boxes"] = "ground truth" if use_gt_bbox else "detections"
    out["summary"] = summary.getvalue()
    return out
