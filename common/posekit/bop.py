"""BOP data set files: readers with errors that name the file and key, and the results CSV.

Layout (https://bop.felk.cvut.cz/datasets/, bop_toolkit docs/bop_datasets_format.md):
  models*/models_info.json, models*/obj_%06d.ply, camera.json, test_targets_bop19.json,
  <split>/<scene %06d>/scene_camera.json, scene_gt.json, scene_gt_info.json,
  rgb/%06d.png|jpg, depth/%06d.png (uint16, x depth_scale = mm), mask/ and mask_visib/
  %06d_%06d.png (image id, ground-truth index).
Results CSV (BOP'19): header `scene_id,im_id,obj_id,score,R,t,time`, R as 9 and t (mm) as 3
space-separated numbers, file name `METHOD_DATASET-SPLIT[-SPLITTYPE].csv` with no `_` in METHOD.
2D detections (BOP'22 format, also that of the challenge's default detections): a JSON list of
{scene_id, image_id, category_id (= obj_id), score, bbox [x, y, w, h], segmentation (RLE),
time (s per image, the same for all detections of an image; negative = unknown)}.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
from typing import Dict, List, Optional

import numpy as np

RESULTS_HEADER = ["scene_id", "im_id", "obj_id", "score", "R", "t", "time"]
MODEL_INFO_KEYS = ("diameter", "min_x", "min_y", "min_z", "size_x", "size_y", "size_z")


class BopFormatError(ValueError):
    """A BOP file does not hold what the format says; the message names file and key."""


def _fail(path, where, what):
    raise BopFormatError(f"{path}: {where}: {what}")


def load_json(path: str):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as exc:
        raise BopFormatError(f"{path}: not valid JSON ({exc})") from None


def save_json(path: str, content) -> None:
    """Writes JSON as bop_toolkit does: one top-level entry per line, keys in given order."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        if isinstance(content, dict):
            items = [f'  "{k}": {json.dumps(v)}' for k, v in content.items()]
            f.write("{\n" + ",\n".join(items) + "\n}\n")
        elif isinstance(content, list):
            f.write("[\n" + ",\n".join("  " + json.dumps(v) for v in content) + "\n]\n")
        else:
            json.dump(content, f)


def _int_key(path, key):
    try:
        return int(key)
    except (TypeError, ValueError):
        _fail(path, f"key {key!r}", "expected an integer id")


def _numbers(path, where, value, count):
    if not isinstance(value, (list, tuple)) or len(value) != count:
        _fail(path, where, f"expected a list of {count} numbers, got {value!r}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        _fail(path, where, f"expected {count} numbers, got {value!r}")
    if not np.all(np.isfinite(arr)):
        _fail(path, where, f"expected finite numbers, got {value!r}")
    return arr


def _number(path, where, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(path, where, f"expected a number, got {value!r}")
    return float(value)


def _require(path, where, entry, key):
    if not isinstance(entry, dict):
        _fail(path, where, f"expected an object, got {type(entry).__name__}")
    if key not in entry:
        _fail(path, f"{where}: key '{key}'", "missing")
    return entry[key]


def _top_dict(path):
    data = load_json(path)
    if not isinstance(data, dict):
        _fail(path, "top level", "expected an object keyed by id")
    return data


def load_models_info(path: str) -> Dict[int, dict]:
    """obj_id -> info with diameter, min/size xyz (mm) and the symmetries, validated.

    `symmetries_discrete` become (4, 4) arrays; `symmetries_continuous` entries keep
    `axis` and `offset` as (3,) arrays.
    """
    out = {}
    for key, entry in _top_dict(path).items():
        obj_id = _int_key(path, key)
        where = f"object {key}"
        info = {}
        for name in MODEL_INFO_KEYS:
            info[name] = _number(path, f"{where}: key '{name}'", _require(path, where, entry, name))
        if info["diameter"] <= 0:
            _fail(path, f"{where}: key 'diameter'", f"expected > 0, got {info['diameter']}")
        syms = entry.get("symmetries_discrete", [])
        if not isinstance(syms, list):
            _fail(path, f"{where}: key 'symmetries_discrete'", "expected a list")
        info["symmetries_discrete"] = [
            _numbers(path, f"{where}: key 'symmetries_discrete'[{i}]", s, 16).reshape(4, 4)
            for i, s in enumerate(syms)
        ]
        cont = entry.get("symmetries_continuous", [])
        if not isinstance(cont, list):
            _fail(path, f"{where}: key 'symmetries_continuous'", "expected a list")
        info["symmetries_continuous"] = []
        for i, s in enumerate(cont):
            w = f"{where}: key 'symmetries_continuous'[{i}]"
            axis = _numbers(path, w + ".axis", _require(path, w, s, "axis"), 3)
            if np.linalg.norm(axis) == 0:
                _fail(path, w + ".axis", "expected a non-zero axis")
            offset = _numbers(path, w + ".offset", _require(path, w, s, "offset"), 3)
            info["symmetries_continuous"].append({"axis": axis, "offset": offset})
        out[obj_id] = info
    return out


def is_symmetric(info: dict) -> bool:
    return bool(info["symmetries_discrete"] or info["symmetries_continuous"])


def save_models_info(path: str, infos: Dict[int, dict]) -> None:
    out = {}
    for obj_id, info in sorted(infos.items()):
        entry = {k: float(info[k]) for k in MODEL_INFO_KEYS}
        if info.get("symmetries_discrete"):
            entry["symmetries_discrete"] = [
                np.asarray(s, dtype=float).reshape(16).tolist() for s in info["symmetries_discrete"]
            ]
        if info.get("symmetries_continuous"):
            entry["symmetries_continuous"] = [
                {
                    "axis": np.asarray(s["axis"], float).tolist(),
                    "offset": np.asarray(s["offset"], float).tolist(),
                }
                for s in info["symmetries_continuous"]
            ]
        out[str(obj_id)] = entry
    save_json(path, out)


def load_camera(path: str) -> dict:
    """Data set camera.json: K (3, 3), width, height, depth_scale."""
    data = load_json(path)
    if not isinstance(data, dict):
        _fail(path, "top level", "expected an object")
    vals = {}
    for key in ("fx", "fy", "cx", "cy", "width", "height"):
        vals[key] = _number(path, f"key '{key}'", _require(path, "top level", data, key))
    depth_scale = _number(path, "key 'depth_scale'", data.get("depth_scale", 1.0))
    K = np.array([[vals["fx"], 0, vals["cx"]], [0, vals["fy"], vals["cy"]], [0, 0, 1.0]])
    return {
        "K": K,
        "width": int(vals["width"]),
        "height": int(vals["height"]),
        "depth_scale": depth_scale,
    }


def parse_camera_entry(path: str, where: str, entry) -> dict:
    """One scene_camera.json entry: cam_K (3, 3), depth_scale, optional world-to-camera pose."""
    cam = {
        "cam_K": _numbers(
            path, where + ": key 'cam_K'", _require(path, where, entry, "cam_K"), 9
        ).reshape(3, 3),
        "depth_scale": _number(path, where + ": key 'depth_scale'", entry.get("depth_scale", 1.0)),
    }
    if "cam_R_w2c" in entry:
        cam["cam_R_w2c"] = _numbers(path, where + ": key 'cam_R_w2c'", entry["cam_R_w2c"], 9)
        cam["cam_R_w2c"] = cam["cam_R_w2c"].reshape(3, 3)
        cam["cam_t_w2c"] = _numbers(
            path, where + ": key 'cam_t_w2c'", _require(path, where, entry, "cam_t_w2c"), 3
        )
    return cam


def load_scene_camera(path: str) -> Dict[int, dict]:
    return {
        _int_key(path, k): parse_camera_entry(path, f"image {k}", v)
        for k, v in _top_dict(path).items()
    }


def load_scene_gt(path: str) -> Dict[int, List[dict]]:
    """im_id -> list (ground-truth index order) of {obj_id, R (3, 3), t (3,) mm}."""
    out = {}
    for k, entries in _top_dict(path).items():
        im_id = _int_key(path, k)
        if not isinstance(entries, list):
            _fail(path, f"image {k}", "expected a list of ground-truth poses")
        gts = []
        for i, e in enumerate(entries):
            where = f"image {k}[{i}]"
            obj_id = _require(path, where, e, "obj_id")
            if isinstance(obj_id, bool) or not isinstance(obj_id, int):
                _fail(path, where + ": key 'obj_id'", f"expected an integer, got {obj_id!r}")
            R = _numbers(
                path, where + ": key 'cam_R_m2c'", _require(path, where, e, "cam_R_m2c"), 9
            )
            t = _numbers(
                path, where + ": key 'cam_t_m2c'", _require(path, where, e, "cam_t_m2c"), 3
            )
            gts.append({"obj_id": obj_id, "R": R.reshape(3, 3), "t": t})
        out[im_id] = gts
    return out


def load_scene_gt_info(path: str) -> Dict[int, List[dict]]:
    """im_id -> list of {bbox_obj, bbox_visib (x, y, w, h), px counts, visib_fract}."""
    out = {}
    for k, entries in _top_dict(path).items():
        im_id = _int_key(path, k)
        if not isinstance(entries, list):
            _fail(path, f"image {k}", "expected a list of ground-truth infos")
        infos = []
        for i, e in enumerate(entries):
            where = f"image {k}[{i}]"
            info = {}
            for key in ("bbox_obj", "bbox_visib"):
                info[key] = _numbers(
                    path, f"{where}: key '{key}'", _require(path, where, e, key), 4
                )
                info[key] = info[key].astype(int)
            for key in ("px_count_all", "px_count_valid", "px_count_visib"):
                if key in e:
                    info[key] = int(_number(path, f"{where}: key '{key}'", e[key]))
            info["visib_fract"] = _number(
                path, where + ": key 'visib_fract'", _require(path, where, e, "visib_fract")
            )
            infos.append(info)
        out[im_id] = infos
    return out


def load_test_targets(path: str) -> List[dict]:
    """test_targets_bop19.json: list of {scene_id, im_id, obj_id, inst_count}."""
    data = load_json(path)
    if not isinstance(data, list):
        _fail(path, "top level", "expected a list of targets")
    out = []
    for i, e in enumerate(data):
        target = {}
        for key in ("scene_id", "im_id", "obj_id", "inst_count"):
            v = _require(path, f"target {i}", e, key)
            if isinstance(v, bool) or not isinstance(v, int):
                _fail(path, f"target {i}: key '{key}'", f"expected an integer, got {v!r}")
            target[key] = v
        out.append(target)
    return out


# Image files ---------------------------------------------------------------------------------


def scene_dir(split_dir: str, scene_id: int) -> str:
    return os.path.join(split_dir, f"{scene_id:06d}")


def image_path(scene_path: str, kind: str, im_id: int, gt_id: Optional[int] = None) -> str:
    """Path of rgb/gray/depth (`kind`) or mask/mask_visib (with gt_id); rgb may be png or jpg."""
    if kind in ("mask", "mask_visib"):
        if gt_id is None:
            raise ValueError(f"{kind} needs the ground-truth index")
        return os.path.join(scene_path, kind, f"{im_id:06d}_{gt_id:06d}.png")
    base = os.path.join(scene_path, kind, f"{im_id:06d}")
    for ext in (".png", ".jpg", ".tif"):
        if os.path.exists(base + ext):
            return base + ext
    return base + ".png"


def load_image(path: str) -> np.ndarray:
    from PIL import Image

    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: image not found")
    with Image.open(path) as im:
        return np.asarray(im)


def load_depth(path: str, depth_scale: float = 1.0) -> np.ndarray:
    """Depth PNG (uint16) -> float32 millimetres (raw value x depth_scale), 0 where unknown."""
    d = load_image(path)
    if d.ndim != 2:
        raise BopFormatError(f"{path}: expected a single-channel 16-bit depth image, got {d.shape}")
    return d.astype(np.float32) * np.float32(depth_scale)


def save_depth(path: str, depth_mm: np.ndarray, depth_scale: float = 1.0) -> None:
    from PIL import Image

    raw = np.round(np.asarray(depth_mm, dtype=np.float64) / depth_scale)
    if raw.max(initial=0) > 65535:
        raise ValueError(f"{path}: depth {raw.max()} exceeds uint16 at depth_scale {depth_scale}")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    Image.fromarray(raw.astype(np.uint16)).save(path)


# Results CSV ---------------------------------------------------------------------------------


def results_filename(method: str, dataset: str, split: str, split_type: Optional[str] = None):
    """`METHOD_DATASET-SPLIT[-SPLITTYPE].csv`; the evaluator splits the name at `_` and `-`."""
    if not method or "_" in method:
        raise ValueError(f"method name {method!r} must be non-empty and contain no '_'")
    for name, value in (("dataset", dataset), ("split", split), ("split_type", split_type)):
        if value is not None and (not value or "_" in value or "-" in value):
            raise ValueError(f"{name} {value!r} must be non-empty without '_' or '-'")
    parts = [dataset, split] + ([split_type] if split_type else [])
    return f"{method}_{'-'.join(parts)}.csv"


def parse_results_filename(path: str) -> dict:
    """method, dataset, split, split_type from a results file name, as bop_toolkit reads it.

    Anything after a second `_` (BOP'23 submission ids) is ignored, as the toolkit does.
    """
    name = os.path.basename(path)
    if not name.endswith(".csv"):
        raise ValueError(f"{name}: a BOP results file name ends with .csv")
    parts = name[: -len(".csv")].split("_")
    if len(parts) < 2 or not parts[0]:
        raise ValueError(f"{name}: expected METHOD_DATASET-SPLIT[-SPLITTYPE].csv")
    info = parts[1].split("-")
    if len(info) < 2 or not info[0] or not info[1]:
        raise ValueError(f"{name}: expected DATASET-SPLIT after the method name")
    return {
        "method": parts[0],
        "dataset": info[0],
        "split": info[1],
        "split_type": info[2] if len(info) > 2 else None,
    }


def _fmt(x) -> str:
    return repr(float(x))


def write_results(path: str, results: List[dict]) -> None:
    """Writes pose estimates {scene_id, im_id, obj_id, score, R, t, time} as a BOP'19 CSV."""
    parse_results_filename(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(RESULTS_HEADER) + "\n")
        for i, r in enumerate(results):
            R = np.asarray(r["R"], dtype=np.float64).reshape(-1)
            t = np.asarray(r["t"], dtype=np.float64).reshape(-1)
            if R.size != 9 or t.size != 3:
                raise ValueError(f"result {i}: R needs 9 and t 3 numbers, got {R.size}, {t.size}")
            f.write(
                f"{int(r['scene_id'])},{int(r['im_id'])},{int(r['obj_id'])},{_fmt(r['score'])},"
                f"{' '.join(_fmt(v) for v in R)},{' '.join(_fmt(v) for v in t)},"
                f"{_fmt(r.get('time', -1.0))}\n"
            )


def read_results(path: str) -> List[dict]:
    """Reads a BOP'19 results CSV; errors name the file, line and field."""
    out = []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header != RESULTS_HEADER:
            raise BopFormatError(
                f"{path}: line 1: expected header {','.join(RESULTS_HEADER)!r}, got {header!r}"
            )
        for lineno, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != 7:
                raise BopFormatError(f"{path}: line {lineno}: expected 7 fields, got {len(row)}")
            rec = {}
            for name, value in zip(RESULTS_HEADER, row):
                try:
                    if name in ("scene_id", "im_id", "obj_id"):
                        rec[name] = int(value)
                    elif name in ("R", "t"):
                        arr = np.array([float(v) for v in value.split()])
                        want = 9 if name == "R" else 3
                        if arr.size != want:
                            raise ValueError(f"{want} numbers expected, got {arr.size}")
                        rec[name] = arr.reshape(3, 3) if name == "R" else arr
                    else:
                        rec[name] = float(value)
                except ValueError as exc:
                    raise BopFormatError(f"{path}: line {lineno}: field '{name}': {exc}") from None
            out.append(rec)
    return out


def time_per_image(results: List[dict]) -> float:
    """Mean run time per image, -1 if any is missing; BOP requires one time per image."""
    times = {}
    for r in results:
        if r["time"] < 0:
            return -1.0
        key = (r["scene_id"], r["im_id"])
        if key in times and abs(times[key] - r["time"]) > 1e-3:
            raise ValueError(
                f"scene {key[0]} image {key[1]}: estimates give different times "
                f"({times[key]} and {r['time']}); BOP needs one time per image"
            )
        times[key] = r["time"]
    return float(np.mean(list(times.values()))) if times else -1.0


# 2D detections (BOP'22) ----------------------------------------------------------------------


def _entry_int(path, where, entry, key):
    v = _require(path, where, entry, key)
    if isinstance(v, bool) or not isinstance(v, int):
        _fail(path, f"{where}: key '{key}'", f"expected an integer, got {v!r}")
    return v


def read_detections(path: str) -> List[dict]:
    """Reads a BOP'22 detections file (.json or .json.gz) as a list of
    {scene_id, im_id, obj_id, bbox (4,) x, y, w, h in px, score, time}, in file order.

    `segmentation` is not read. A missing `time` is -1 (unknown), as bop_toolkit writes it.
    Errors name the file and the entry index; times must agree within an image, as
    bop_toolkit's check_coco_results requires.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: detections file not found")
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rt", encoding="utf-8") as f:
                data = json.load(f)
        else:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
    except (json.JSONDecodeError, OSError, UnicodeDecodeError) as exc:
        raise BopFormatError(f"{path}: not a readable JSON file ({exc})") from None
    if not isinstance(data, list):
        _fail(path, "top level", "expected a list of detections (BOP'22 format)")
    out, times = [], {}
    for i, e in enumerate(data):
        where = f"detection {i}"
        det = {
            "scene_id": _entry_int(path, where, e, "scene_id"),
            "im_id": _entry_int(path, where, e, "image_id"),
            "obj_id": _entry_int(path, where, e, "category_id"),
        }
        bbox = _numbers(path, f"{where}: key 'bbox'", _require(path, where, e, "bbox"), 4)
        if bbox[2] <= 0 or bbox[3] <= 0:
            _fail(path, f"{where}: key 'bbox'", f"expected [x, y, w, h] with w, h > 0, got {bbox}")
        det["bbox"] = bbox
        det["score"] = _number(path, f"{where}: key 'score'", _require(path, where, e, "score"))
        det["time"] = _number(path, f"{where}: key 'time'", e.get("time", -1.0))
        key = (det["scene_id"], det["im_id"])
        first = times.setdefault(key, (i, det["time"]))
        if abs(first[1] - det["time"]) > 1e-3:
            _fail(
                path,
                f"{where}: key 'time'",
                f"{det['time']} differs from {first[1]} of detection {first[0]} (scene "
                f"{key[0]} image {key[1]}); BOP needs one time per image",
            )
        out.append(det)
    return out


def save_detections(path: str, detections: List[dict]) -> None:
    """Writes {scene_id, im_id, obj_id, bbox, score, time} in the BOP'22 detections format."""
    save_json(
        path,
        [
            {
                "scene_id": int(d["scene_id"]),
                "image_id": int(d["im_id"]),
                "category_id": int(d["obj_id"]),
                "score": float(d["score"]),
                "bbox": [float(v) for v in np.asarray(d["bbox"]).reshape(4)],
                "time": float(d.get("time", -1.0)),
            }
            for d in detections
        ],
    )
