"""6D pose of one object in one image: prints R and t (mm) and writes the drawn outline PNG.

usage: python infer.py --image IMG --bbox X,Y,W,H --obj_id N --output_path OUT --data_path DATA
       [--camera camera.json | --K fx,fy,cx,cy] [--pb frozen.pb] [--cfg CFG] [--dataset tless]
       [--out pose.png]
Weights: the frozen graph (--pb) or OUT/pix2pose_weights/NN/inference.hdf5.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
from src import xyz as xyzlib  # noqa: E402
from src.graph import FrozenGraph, GeneratorSession  # noqa: E402
from src.pose import Pix2PoseEstimator, draw_outline  # noqa: E402
from src.tools import bop_io  # noqa: E402

from posekit import bop  # noqa: E402
from posekit import mesh as meshlib  # noqa: E402


def parse_floats(text, n, name):
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        vals = []
    if len(vals) != n:
        raise SystemExit(f"--{name} expects {n} comma-separated numbers, got {text!r}")
    return vals


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--image", required=True)
    p.add_argument("--bbox", required=True, help="x,y,w,h in pixels")
    p.add_argument("--obj_id", required=True, type=int)
    p.add_argument(
        "--output_path", required=True, help="folder with models_xyz/ and pix2pose_weights/"
    )
    p.add_argument("--data_path", required=True, help="BOP data set (models, camera.json)")
    p.add_argument("--camera", help="camera.json (default: DATA/camera.json)")
    p.add_argument("--K", help="fx,fy,cx,cy instead of camera.json")
    p.add_argument("--pb", help="frozen graph from export.py")
    p.add_argument(
        "--cfg", default=os.path.join(HERE, "src", "tools", "cfg", "cfg_tless_paper.json")
    )
    p.add_argument("--dataset", default="tless")
    p.add_argument("--out", default="pose.png")
    a = p.parse_args(argv)
    cfg = bop_io.load_cfg(a.cfg)
    lay = bop_io.layout(cfg, a.dataset)
    if a.K:
        fx, fy, cx, cy = parse_floats(a.K, 4, "K")
        K = np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1.0]])
    else:
        K = bop.load_camera(a.camera or os.path.join(a.data_path, "camera.json"))["K"]
    bbox = parse_floats(a.bbox, 4, "bbox")
    rgb = bop.load_image(a.image)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[:, :, None], 3, axis=2)
    nfs = xyzlib.load_norm_factors(
        os.path.join(a.output_path, "models_xyz", cfg.get("norm_factor_fn", "norm_factor.json"))
    )
    if a.obj_id not in nfs:
        raise SystemExit(f"object {a.obj_id} has no norm factor in {a.output_path}/models_xyz")
    if a.pb:
        net = FrozenGraph(a.pb)
    else:
        wpath = os.path.join(a.output_path, "pix2pose_weights", f"{a.obj_id:02d}", "inference.hdf5")
        net = GeneratorSession(wpath, int(cfg.get("img_size", 128)), float(cfg.get("width", 1.0)))
    outlier = cfg.get("outlier_th")
    th = outlier[a.obj_id - 1] if outlier and len(outlier) >= a.obj_id else [0.1, 0.2, 0.3]
    est = Pix2PoseEstimator(
        net,
        net.size,
        K,
        nfs[a.obj_id],
        th,
        cfg.get("inlier_th", 0.1),
        cfg.get("box_size", 1.5),
        cfg.get("ransac_reproj_px", 5.0),
        cfg.get("ransac_iterations", 100),
    )
    res = est.estimate(rgb, bbox)
    if res is None:
        print(json.dumps({"obj_id": a.obj_id, "pose": None, "reason": "too few confident pixels"}))
        return 1
    from PIL import Image

    from posekit.render import Renderer

    model = meshlib.load_ply(bop_io.model_path(a.data_path, lay, "models_eval", a.obj_id))
    with Renderer(rgb.shape[1], rgb.shape[0]) as r:
        mask = r.render(model, K, res["R"], res["t"], 10.0, 10000.0).mask
    Image.fromarray(draw_outline(rgb, mask, (255, 0, 0), 2)).save(a.out)
    print(
        json.dumps(
            {
                "obj_id": a.obj_id,
                "R": res["R"].reshape(-1).round(6).tolist(),
                "t": res["t"].round(3).tolist(),
                "score": round(res["score"], 4),
                "n_inliers": res["n_inliers"],
                "picture": a.out,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
