"""Evaluation on a BOP test split (5_evaluation_bop_basic.py): pose per target instance, BOP
results CSV, BOP'19 scores (VSD with the posekit renderer, MSSD, MSPD, AR) and ADD(-S) recall
at 0.1 x diameter, the mean-training-pose baseline, and PNGs of the predicted poses.

Boxes come from a BOP'22 detections file when one is given, else from the ground truth."""

from __future__ import annotations

import json
import os
import time
from typing import Dict, List, Optional

import numpy as np
from tqdm import tqdm

from posekit import bop, bop_metrics
from posekit import mesh as meshlib
from src import xyz as xyzlib
from src.pose import Pix2PoseEstimator, draw_outline
from src.tools import bop_io

BOX_SOURCE_GT = (
    "ground-truth visible boxes (scene_gt_info.json bbox_visib of the inst_count most visible "
    "instances)"
)


def load_test_set(data_path: str, cfg: dict, dataset: str, obj_ids: List[int]):
    """Targets for obj_ids, the ground truth index, per-image cameras and image paths."""
    lay = bop_io.layout(cfg, dataset)
    targets = bop.load_test_targets(
        os.path.join(data_path, cfg.get("test_target", "test_targets_bop19.json"))
    )
    targets = [t for t in targets if t["obj_id"] in obj_ids]
    wanted = {(t["scene_id"], t["im_id"]) for t in targets}
    gts, cams, paths = {}, {}, {}
    for scene_id, im_id, spath, cam, g, info in bop_io.split_images(data_path, lay, "test"):
        if (scene_id, im_id) not in wanted:
            continue
        if info is None:
            raise FileNotFoundError(
                f"{spath}: scene_gt_info.json is needed for boxes and visibility"
            )
        key = (scene_id, im_id)
        gts[key] = [
            dict(x, visib_fract=i["visib_fract"], bbox_visib=i["bbox_visib"])
            for x, i in zip(g, info)
        ]
        cams[key] = cam
        paths[key] = spath
    missing = wanted - set(gts)
    if missing:
        raise FileNotFoundError(
            f"test targets name images with no ground truth, e.g. scene/image {sorted(missing)[0]}"
        )
    return lay, targets, gts, cams, paths


def target_boxes(gts, targets):
    """(scene, im, obj) -> boxes of the inst_count most visible instances (the GT 'detector')."""
    out = {}
    for t in targets:
        inst = [g for g in gts[(t["scene_id"], t["im_id"])] if g["obj_id"] == t["obj_id"]]
        inst.sort(key=lambda g: -g["visib_fract"])
        out[(t["scene_id"], t["im_id"], t["obj_id"])] = [
            g["bbox_visib"] for g in inst[: t["inst_count"]]
        ]
    return out


def detection_boxes(detections: List[dict], targets, path: str):
    """(scene, im, obj) -> [(box, score)] of the inst_count top-scoring detections of each target,
    and (scene, im) -> the detector's time for the image (negative: unknown)."""
    wanted = {(t["scene_id"], t["im_id"], t["obj_id"]): t["inst_count"] for t in targets}
    found, det_time = {}, {}
    for d in detections:
        key = (d["scene_id"], d["im_id"], d["obj_id"])
        det_time[key[:2]] = d["time"]
        if key in wanted:
            found.setdefault(key, []).append(d)
    if not found:
        raise ValueError(
            f"{path}: no detection names a test target (scene_id, image_id, category_id) of the "
            "evaluated objects; is it the detections file of this data set and split?"
        )
    boxes = {}
    for key, n in wanted.items():
        # sorted() is stable: equal scores keep file order
        best = sorted(found.get(key, []), key=lambda d: -d["score"])[:n]
        boxes[key] = [(d["bbox"], d["score"]) for d in best]
    return boxes, det_time


def mean_training_pose(data_path: str, lay: dict, obj_id: int):
    """Chordal mean rotation (SVD projection of the summed matrices) and mean translation."""
    Rs, ts = [], []
    for *_, gts, _ in bop_io.split_images(data_path, lay, "train", obj_id):
        for g in gts:
            if g["obj_id"] == obj_id:
                Rs.append(g["R"])
                ts.append(g["t"])
    if not Rs:
        raise ValueError(f"no training poses of object {obj_id}")
    U, _, Vt = np.linalg.svd(np.sum(Rs, axis=0))
    R = U @ np.diag([1, 1, np.linalg.det(U @ Vt)]) @ Vt
    return R, np.mean(ts, axis=0)


def score_results(results, gts, targets, models_info, model_meshes, cams, paths, with_vsd=True):
    from posekit.render import Renderer

    points = {o: m.vertices.astype(np.float64) for o, m in model_meshes.items()}
    cameras, shapes = {}, {}
    for key, cam in cams.items():
        h, w = bop.load_image(bop.image_path(paths[key], "rgb", key[1])).shape[:2]
        cameras[key] = {"K": cam["cam_K"], "width": w, "height": h}
        shapes[key] = (h, w)
    gt_index = {
        k: [
            {"obj_id": g["obj_id"], "R": g["R"], "t": g["t"], "visib_fract": g["visib_fract"]}
            for g in v
        ]
        for k, v in gts.items()
    }
    renderers = {}

    def render_depth(obj_id, K, R, t, shape):
        if shape not in renderers:
            renderers[shape] = Renderer(shape[1], shape[0])
        r = renderers[shape]
        return r.render(model_meshes[obj_id], K, R, t, 10.0, 10000.0).depth

    def depth_image(scene_id, im_id):
        key = (scene_id, im_id)
        return bop.load_depth(bop.image_path(paths[key], "depth", im_id), cams[key]["depth_scale"])

    try:
        return bop_metrics.bop19_scores(
            results,
            gt_index,
            targets,
            models_info,
            points,
            cameras,
            render_depth if with_vsd else None,
            depth_image if with_vsd else None,
        )
    finally:
        for r in renderers.values():
            r.close()


def draw_results(out_png, results, gts, cams, paths, model_meshes, max_images=4):
    """Test images with ground-truth outlines (green) and predicted ones (red), side by side."""
    from PIL import Image

    from posekit.render import Renderer

    keys = sorted({(r["scene_id"], r["im_id"]) for r in results})[:max_images]
    tiles = []
    for key in keys:
        rgb = bop.load_image(bop.image_path(paths[key], "rgb", key[1]))[:, :, :3]
        h, w = rgb.shape[:2]
        img = rgb.copy()
        with Renderer(w, h) as r:
            for res in (x for x in results if (x["scene_id"], x["im_id"]) == key):
                for g in gts[key]:
                    if g["obj_id"] == res["obj_id"]:
                        m = r.render(
                            model_meshes[g["obj_id"]],
                            cams[key]["cam_K"],
                            g["R"],
                            g["t"],
                            10.0,
                            10000.0,
                        ).mask
                        img = draw_outline(img, m, (0, 255, 0))
                m = r.render(
                    model_meshes[res["obj_id"]],
                    cams[key]["cam_K"],
                    res["R"],
                    res["t"],
                    10.0,
                    10000.0,
                ).mask
                img = draw_outline(img, m, (255, 0, 0))
        tiles.append(img)
    if not tiles:
        return None
    Image.fromarray(np.concatenate(tiles, axis=1)).save(out_png)
    return out_png


def evaluate(
    data_path: str,
    output_path: str,
    cfg: dict,
    dataset: str,
    obj_ids: List[int],
    predictors: Dict[int, object],
    with_vsd: bool = True,
    baseline: bool = True,
    picture: Optional[str] = None,
    detection_file: Optional[str] = None,
    detections: Optional[List[dict]] = None,
) -> dict:
    """predictors: obj_id -> callable batch -> (xyz, error) (GeneratorSession or FrozenGraph).

    detection_file: BOP'22 detections used as boxes instead of the ground truth; `detections`
    may hold its contents already read with posekit.bop.read_detections. With detections a
    result's score is the detection score and its time the detector's time for the image plus
    the pose time (-1 when the file gives no detector time).
    """
    lay, targets, gts, cams, paths = load_test_set(data_path, cfg, dataset, obj_ids)
    infos = bop_io.models_info(data_path, lay, "models_eval")
    meshes = {
        o: meshlib.load_ply(bop_io.model_path(data_path, lay, "models_eval", o)) for o in obj_ids
    }
    nfs = xyzlib.load_norm_factors(
        os.path.join(output_path, "models_xyz", cfg.get("norm_factor_fn", "norm_factor.json"))
    )
    gt_boxes = target_boxes(gts, targets)
    if detection_file:
        if detections is None:
            detections = bop.read_detections(detection_file)
        boxes, det_time = detection_boxes(detections, targets, detection_file)
        box_source = f"detections from {detection_file} (top-scoring, up to inst_count per target)"
    else:
        boxes = {k: [(b, None) for b in v] for k, v in gt_boxes.items()}
        det_time, box_source = {}, BOX_SOURCE_GT
    outlier = cfg.get("outlier_th")
    estimators = {}
    for o in obj_ids:
        th = outlier[o - 1] if outlier and len(outlier) >= o else [0.1, 0.2, 0.3]
        K0 = next(iter(cams.values()))["cam_K"]
        estimators[o] = Pix2PoseEstimator(
            predictors[o],
            predictors[o].size,
            K0,
            nfs[o],
            th,
            cfg.get("inlier_th", 0.1),
            cfg.get("box_size", 1.5),
            cfg.get("ransac_reproj_px", 5.0),
            cfg.get("ransac_iterations", 100),
        )
    results, per_instance, unknown_time = [], [], 0
    by_image = {}
    for (s, i, o), bxs in boxes.items():
        by_image.setdefault((s, i), []).append((o, bxs))
    for key in tqdm(sorted(by_image), desc="test images", unit="img"):
        rgb = bop.load_image(bop.image_path(paths[key], "rgb", key[1]))
        if rgb.ndim == 2:
            rgb = np.repeat(rgb[:, :, None], 3, axis=2)
        start, found = time.time(), []
        for o, bxs in by_image[key]:
            est = estimators[o]
            est.K = cams[key]["cam_K"]
            for b, det_score in bxs:
                t0 = time.time()
                r = est.estimate(rgb, b)
                per_instance.append(time.time() - t0)
                if r is not None:
                    found.append(
                        {
                            "scene_id": key[0],
                            "im_id": key[1],
                            "obj_id": o,
                            # detector boxes: the detector's confidence, as the reference
                            # (score_type 1, the paper's setting) does; ground-truth boxes have
                            # none, so the pose's inlier ratio
                            "score": r["score"] if det_score is None else det_score,
                            "R": r["R"],
                            "t": r["t"],
                        }
                    )
        elapsed = time.time() - start
        if detection_file:
            # BOP times the whole method, detection included; negative: the file gives none
            d = det_time.get(key, -1.0)
            elapsed = elapsed + d if d >= 0 else -1.0
            unknown_time += bool(found) and d < 0
        for f in found:
            f["time"] = elapsed  # BOP: one run time per image, for all its estimates
        results += found
    csv_path = os.path.join(
        output_path, bop_io.results_name(cfg.get("method", "pix2pose-iccv19"), dataset, lay)
    )
    bop.write_results(csv_path, results)
    scores = score_results(results, gts, targets, infos, meshes, cams, paths, with_vsd)
    time_note = "pose estimation per image (no detector)"
    if detection_file:
        time_note = "detector time from the detections file + pose estimation, per image"
        if unknown_time:
            time_note += f"; -1 (unknown) for {unknown_time} images the file gives no time for"
    out = {
        "csv": csv_path,
        "boxes": box_source,
        "detection_file": detection_file,
        "n_targets": len(targets),
        "n_instances": int(sum(t["inst_count"] for t in targets)),
        "n_boxes": int(sum(len(v) for v in boxes.values())),
        "n_estimates": len(results),
        "time": time_note,
        "seconds_per_instance": float(np.mean(per_instance)) if per_instance else 0.0,
        "scores": scores,
    }
    if baseline:
        base = []
        for o in obj_ids:
            R, t = mean_training_pose(data_path, lay, o)
            base += [
                {"scene_id": s, "im_id": i, "obj_id": o, "score": 1.0, "R": R, "t": t, "time": -1.0}
                for (s, i, oo), bxs in gt_boxes.items()
                if oo == o
                for _ in bxs
            ]
        out["baseline_scores"] = score_results(
            base, gts, targets, infos, meshes, cams, paths, with_vsd
        )
    if picture:
        out["picture"] = draw_results(picture, results, gts, cams, paths, meshes)
    with open(
        os.path.join(output_path, "scores_" + os.path.basename(csv_path)[:-4] + ".json"), "w"
    ) as f:
        json.dump(out, f, indent=1, default=float)
    return out
