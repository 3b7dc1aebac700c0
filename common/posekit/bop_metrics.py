"""BOP pose errors (ADD, ADI, re, te, MSSD, MSPD, VSD) and the BOP'19 recall / AR protocol.

Definitions follow Hodan et al., "BOP: Benchmark for 6D Object Pose Estimation" (ECCV'18),
the BOP Challenge 2019 rules and bop_toolkit (pose_error.py, misc.py, visibility.py,
pose_matching.py, eval_calc_scores.py, eval_bop19_pose.py):
- symmetries: discrete ones from models_info plus continuous ones discretised so that the
  point furthest from the axis moves at most max_sym_disc_step (0.01) x diameter per step:
  ceil(pi / 0.01) = 315 steps of 2 pi / 315;
- VSD: delta 15 mm (5 for ITODD), tau and threshold 0.05..0.5 (x diameter), step cost,
  'bop19' visibility masks on distance (not depth) images;
- MSSD: thresholds 0.05..0.5 x diameter; MSPD: 5..50 px after scaling the error by 640/width;
- per (image, object) the inst_count highest-scored estimates are evaluated, greedily matched
  (by score) to the lowest-error unmatched valid ground truth; with visib_gt_min = -1 the
  inst_count most visible instances are valid; recall = matched / valid over the data set;
  AR_X = mean recall over X's thresholds (and taus), AR = mean of AR_VSD, AR_MSSD, AR_MSPD.
Pure NumPy: VSD takes the depth renderer as a callable so this module needs no OpenGL.
"""

from __future__ import annotations

import math
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

MAX_SYM_DISC_STEP = 0.01
VSD_DELTA_MM = 15.0
VSD_TAUS = tuple(np.arange(0.05, 0.51, 0.05))
VSD_THRESHOLDS = tuple(np.arange(0.05, 0.51, 0.05))
MSSD_THRESHOLDS = tuple(np.arange(0.05, 0.51, 0.05))
MSPD_THRESHOLDS = tuple(np.arange(5.0, 51.0, 5.0))


def _rt(R, t):
    return np.asarray(R, dtype=np.float64).reshape(3, 3), np.asarray(t, np.float64).reshape(3)


def transform(pts: np.ndarray, R, t) -> np.ndarray:
    R, t = _rt(R, t)
    return np.asarray(pts, dtype=np.float64) @ R.T + t


def project(pts: np.ndarray, K, R, t) -> np.ndarray:
    """(N, 3) model points -> (N, 2) pixel coordinates under pose (R, t) and intrinsics K."""
    p = transform(pts, R, t) @ np.asarray(K, dtype=np.float64).T
    return p[:, :2] / p[:, 2:3]


def axis_angle_matrix(axis, angle: float) -> np.ndarray:
    """Rotation by `angle` radians about `axis` (Rodrigues)."""
    k = np.asarray(axis, dtype=np.float64)
    k = k / np.linalg.norm(k)
    Kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(angle) * Kx + (1 - math.cos(angle)) * Kx @ Kx


def symmetry_transformations(
    model_info: dict, max_sym_disc_step: float = MAX_SYM_DISC_STEP
) -> List[Tuple[np.ndarray, np.ndarray]]:
    """(R, t) pairs mapping the model onto itself, identity first, as bop_toolkit builds them.

    `model_info` is one entry of `posekit.bop.load_models_info` (or the raw JSON entry).
    Each continuous symmetry (axis through `offset`) is sampled at ceil(pi / step) angles
    including 0 and combined with every discrete symmetry (continuous applied after).
    """
    disc = [(np.eye(3), np.zeros(3))]
    for sym in model_info.get("symmetries_discrete", []):
        m = np.asarray(sym, dtype=np.float64).reshape(4, 4)
        disc.append((m[:3, :3], m[:3, 3]))
    cont = []
    for sym in model_info.get("symmetries_continuous", []):
        offset = np.asarray(sym["offset"], dtype=np.float64).reshape(3)
        steps = int(np.ceil(np.pi / max_sym_disc_step))
        for i in range(steps):
            R = axis_angle_matrix(sym["axis"], i * 2.0 * np.pi / steps)
            cont.append((R, offset - R @ offset))
    if not cont:
        return disc
    return [(Rc @ Rd, Rc @ td + tc) for Rd, td in disc for Rc, tc in cont]


# Pose errors (model points in mm, t in mm) ---------------------------------------------------


def add(R_est, t_est, R_gt, t_gt, pts) -> float:
    """Average distance of corresponding model points (Hinterstoisser et al., ACCV'12)."""
    return float(
        np.linalg.norm(transform(pts, R_est, t_est) - transform(pts, R_gt, t_gt), axis=1).mean()
    )


def _nn_dist(query: np.ndarray, ref: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """Distance from each query point to its nearest reference point (chunked brute force)."""
    ref_sq = (ref**2).sum(1)
    out = np.empty(len(query))
    for s in range(0, len(query), chunk):
        q = query[s : s + chunk]
        d2 = ref_sq[None, :] - 2.0 * q @ ref.T
        # The expanded form only picks the neighbour; its distance is recomputed exactly.
        out[s : s + chunk] = np.linalg.norm(q - ref[d2.argmin(1)], axis=1)
    return out


def adi(R_est, t_est, R_gt, t_gt, pts) -> float:
    """ADD-S: mean distance from each ground-truth point to the closest estimated point."""
    return float(_nn_dist(transform(pts, R_gt, t_gt), transform(pts, R_est, t_est)).mean())


def re(R_est, R_gt) -> float:
    """Rotation error in degrees: acos((trace(R_est R_gt^-1) - 1) / 2), clipped to [-1, 1]."""
    R_est, _ = _rt(R_est, np.zeros(3))
    R_gt, _ = _rt(R_gt, np.zeros(3))
    cos = 0.5 * (np.trace(R_est @ R_gt.T) - 1.0)
    return float(np.degrees(math.acos(min(1.0, max(-1.0, cos)))))


def te(t_est, t_gt) -> float:
    """Translation error, in the units of t."""
    return float(
        np.linalg.norm(np.asarray(t_est, float).reshape(3) - np.asarray(t_gt, float).reshape(3))
    )


def mssd(R_est, t_est, R_gt, t_gt, pts, syms) -> float:
    """Maximum symmetry-aware surface distance: min over symmetries of the max point distance."""
    pe = transform(pts, R_est, t_est)
    R_gt, t_gt = _rt(R_gt, t_gt)
    return float(
        min(
            np.linalg.norm(pe - transform(pts, R_gt @ Rs, R_gt @ ts + t_gt), axis=1).max()
            for Rs, ts in syms
        )
    )


def mspd(R_est, t_est, R_gt, t_gt, K, pts, syms) -> float:
    """Maximum symmetry-aware projection distance in pixels."""
    pe = project(pts, K, R_est, t_est)
    R_gt, t_gt = _rt(R_gt, t_gt)
    return float(
        min(
            np.linalg.norm(pe - project(pts, K, R_gt @ Rs, R_gt @ ts + t_gt), axis=1).max()
            for Rs, ts in syms
        )
    )


def depth_to_dist(depth: np.ndarray, K) -> np.ndarray:
    """Depth image (z) -> distance from the camera centre per pixel (0 stays 0)."""
    K = np.asarray(K, dtype=np.float64)
    h, w = depth.shape
    xs = (np.arange(w) - K[0, 2]) / K[0, 0]
    ys = (np.arange(h) - K[1, 2]) / K[1, 1]
    d = depth.astype(np.float64)
    return d * np.sqrt(xs[None, :] ** 2 + ys[:, None] ** 2 + 1.0)


def _visib_mask(d_test, d_model, delta):
    """'bop19' visibility: model surface in front of (or within delta of) the test surface,
    also where the sensor has no measurement."""
    diff = d_model - d_test
    return np.logical_and(np.logical_or(diff <= delta, d_test == 0), d_model > 0)


def vsd(
    R_est,
    t_est,
    R_gt,
    t_gt,
    depth_test: np.ndarray,
    K,
    render_depth: Callable[[np.ndarray, np.ndarray], np.ndarray],
    diameter: float,
    delta: float = VSD_DELTA_MM,
    taus: Sequence[float] = VSD_TAUS,
    normalized_by_diameter: bool = True,
) -> List[float]:
    """Visible surface discrepancy for each tau (step cost), in [0, 1].

    `render_depth(R, t)` returns the model's z-depth image (0 = background) at the size of
    `depth_test`, in the same units as `depth_test` (mm).
    """
    dist_test = depth_to_dist(depth_test, K)
    dist_gt = depth_to_dist(render_depth(*_rt(R_gt, t_gt)), K)
    dist_est = depth_to_dist(render_depth(*_rt(R_est, t_est)), K)
    visib_gt = _visib_mask(dist_test, dist_gt, delta)
    visib_est = np.logical_or(
        _visib_mask(dist_test, dist_est, delta), np.logical_and(visib_gt, dist_est > 0)
    )
    inter = np.logical_and(visib_gt, visib_est)
    union_count = int(np.logical_or(visib_gt, visib_est).sum())
    if union_count == 0:
        return [1.0] * len(taus)
    comp_count = union_count - int(inter.sum())
    dists = np.abs(dist_gt[inter] - dist_est[inter])
    if normalized_by_diameter:
        dists = dists / diameter
    return [float((np.sum(dists >= tau) + comp_count) / union_count) for tau in taus]


def spheres_overlap(radius: float, t1, t2) -> bool:
    """Whether the projections of two spheres of `radius` centred at t1, t2 overlap
    (approximately); the toolkit gives VSD 1 without rendering when they do not."""
    t1 = np.asarray(t1, dtype=np.float64).reshape(3)
    t2 = np.asarray(t2, dtype=np.float64).reshape(3)
    if t1[2] == 0 or t2[2] == 0:
        return False
    dist = np.linalg.norm(t1[:2] / t1[2] - t2[:2] / t2[2])
    return bool(dist < radius * (1.0 / t1[2] + 1.0 / t2[2]))


# Matching, recall and AR --------------------------------------------------------------------

# Ground truth per image: {(scene_id, im_id): [{"obj_id", "R", "t", "visib_fract"}, ...]}
GtIndex = Dict[Tuple[int, int], List[dict]]
ErrorFn = Callable[[dict, dict], Sequence[float]]


def select_estimates(estimates: List[dict], targets: List[dict]) -> List[dict]:
    """Keeps, per target (scene, image, object), its inst_count best-scored estimates."""
    counts = {(t["scene_id"], t["im_id"], t["obj_id"]): t["inst_count"] for t in targets}
    groups: Dict[tuple, List[dict]] = {}
    for e in estimates:
        key = (e["scene_id"], e["im_id"], e["obj_id"])
        if key in counts:
            groups.setdefault(key, []).append(e)
    out = []
    for key, ests in groups.items():
        out += sorted(ests, key=lambda e: -e["score"])[: counts[key]]
    return out


def valid_gt(
    gts: GtIndex, targets: List[dict], visib_gt_min: float = -1.0
) -> Dict[tuple, List[bool]]:
    """Which ground-truth instances count; -1 means the inst_count most visible per target."""
    by_im: Dict[tuple, Dict[int, int]] = {}
    for t in targets:
        by_im.setdefault((t["scene_id"], t["im_id"]), {})[t["obj_id"]] = t["inst_count"]
    out = {}
    for key, obj_counts in by_im.items():
        im_gts = gts.get(key, [])
        valid = [False] * len(im_gts)
        if visib_gt_min >= 0:
            for i, g in enumerate(im_gts):
                valid[i] = g["obj_id"] in obj_counts and g["visib_fract"] >= visib_gt_min
        else:
            left = dict(obj_counts)
            order = sorted(range(len(im_gts)), key=lambda i: -im_gts[i]["visib_fract"])
            for i in order:
                obj = im_gts[i]["obj_id"]
                if left.get(obj, 0) > 0:
                    valid[i] = True
                    left[obj] -= 1
        out[key] = valid
    return out


def compute_errors(estimates: List[dict], gts: GtIndex, error_fn: ErrorFn) -> List[dict]:
    """For each estimate, its error vector against every ground truth of the same object."""
    out = []
    for est_id, e in enumerate(estimates):
        errs = {}
        for gt_id, g in enumerate(gts.get((e["scene_id"], e["im_id"]), [])):
            if g["obj_id"] == e["obj_id"]:
                errs[gt_id] = [float(v) for v in error_fn(e, g)]
        out.append(
            {
                **{k: e[k] for k in ("scene_id", "im_id", "obj_id", "score")},
                "est_id": est_id,
                "errors": errs,
            }
        )
    return out


def recall(
    errors: List[dict], valid: Dict[tuple, List[bool]], threshold: float, component: int = 0
) -> float:
    """Fraction of valid ground truths matched by an estimate with error < threshold.

    Estimates are taken by decreasing score; each takes the unmatched valid ground truth with
    the lowest error below the threshold (bop_toolkit pose_matching.match_poses).
    """
    total = sum(sum(v) for v in valid.values())
    if total == 0:
        return 0.0
    matched = set()
    for e in sorted(errors, key=lambda e: -e["score"]):
        key = (e["scene_id"], e["im_id"])
        im_valid = valid.get(key)
        if im_valid is None:
            continue
        best, best_err = None, threshold
        for gt_id, errs in e["errors"].items():
            if im_valid[gt_id] and (key, gt_id) not in matched and errs[component] < best_err:
                best, best_err = gt_id, errs[component]
        if best is not None:
            matched.add((key, best))
    return len(matched) / float(total)


def average_recall(
    errors: List[dict],
    valid: Dict[tuple, List[bool]],
    thresholds: Sequence[float],
    components: int = 1,
) -> float:
    return float(
        np.mean([recall(errors, valid, th, c) for c in range(components) for th in thresholds])
    )


def gt_index(scene_gts: Dict[int, Dict[int, List[dict]]], scene_gt_infos) -> GtIndex:
    """Joins load_scene_gt / load_scene_gt_info outputs per scene into one GtIndex."""
    out = {}
    for scene_id, im_gts in scene_gts.items():
        for im_id, gts in im_gts.items():
            infos = scene_gt_infos[scene_id][im_id]
            out[(scene_id, im_id)] = [
                {"obj_id": g["obj_id"], "R": g["R"], "t": g["t"], "visib_fract": i["visib_fract"]}
                for g, i in zip(gts, infos)
            ]
    return out


def bop19_scores(
    estimates: List[dict],
    gts: GtIndex,
    targets: List[dict],
    models_info: Dict[int, dict],
    model_points: Dict[int, np.ndarray],
    cameras: Dict[Tuple[int, int], dict],
    render_depth: Optional[
        Callable[[int, np.ndarray, np.ndarray, np.ndarray, tuple], np.ndarray]
    ] = None,
    depth_images: Optional[Callable[[int, int], np.ndarray]] = None,
    vsd_delta: float = VSD_DELTA_MM,
    visib_gt_min: float = -1.0,
    add_threshold: float = 0.1,
) -> dict:
    """BOP'19 AR (VSD, MSSD, MSPD) plus ADD(-S) recall at add_threshold x diameter.

    cameras: (scene_id, im_id) -> {"K": (3, 3), "width": int, "height": int}.
    render_depth(obj_id, K, R, t, (height, width)) and depth_images(scene_id, im_id) enable
    VSD; without them AR is the mean of MSSD and MSPD only and says so in "ar_terms".
    ADD(-S) uses ADI for objects with symmetries in models_info and ADD otherwise.
    """
    ests = select_estimates(estimates, targets)
    valid = valid_gt(gts, targets, visib_gt_min)
    syms = {o: symmetry_transformations(i) for o, i in models_info.items()}

    def err_mssd(e, g):
        d = models_info[e["obj_id"]]["diameter"]
        return [
            mssd(e["R"], e["t"], g["R"], g["t"], model_points[e["obj_id"]], syms[e["obj_id"]]) / d
        ]

    def err_mspd(e, g):
        cam = cameras[(e["scene_id"], e["im_id"])]
        px = mspd(
            e["R"], e["t"], g["R"], g["t"], cam["K"], model_points[e["obj_id"]], syms[e["obj_id"]]
        )
        return [px * 640.0 / cam["width"]]

    def err_adds(e, g):
        info, pts = models_info[e["obj_id"]], model_points[e["obj_id"]]
        sym = bool(info.get("symmetries_discrete") or info.get("symmetries_continuous"))
        fn = adi if sym else add
        return [fn(e["R"], e["t"], g["R"], g["t"], pts) / info["diameter"]]

    out = {
        "mssd": average_recall(compute_errors(ests, gts, err_mssd), valid, MSSD_THRESHOLDS),
        "mspd": average_recall(compute_errors(ests, gts, err_mspd), valid, MSPD_THRESHOLDS),
        "adds_recall": recall(compute_errors(ests, gts, err_adds), valid, add_threshold),
        "num_valid_gt": int(sum(sum(v) for v in valid.values())),
        "num_estimates": len(ests),
    }
    if render_depth is not None and depth_images is not None:

        def err_vsd(e, g):
            d = models_info[e["obj_id"]]["diameter"]
            if not spheres_overlap(0.5 * d, e["t"], g["t"]):
                return [1.0] * len(VSD_TAUS)
            cam = cameras[(e["scene_id"], e["im_id"])]
            depth = depth_images(e["scene_id"], e["im_id"])

            def rd(R, t):
                return render_depth(e["obj_id"], cam["K"], R, t, depth.shape)

            return vsd(e["R"], e["t"], g["R"], g["t"], depth, cam["K"], rd, d, vsd_delta)

        out["vsd"] = average_recall(
            compute_errors(ests, gts, err_vsd), valid, VSD_THRESHOLDS, len(VSD_TAUS)
        )
        out["ar"] = float(np.mean([out["vsd"], out["mssd"], out["mspd"]]))
        out["ar_terms"] = "vsd,mssd,mspd"
    else:
        out["ar"] = float(np.mean([out["mssd"], out["mspd"]]))
        out["ar_terms"] = "mssd,mspd"
    return out
