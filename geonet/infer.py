"""Inference with the frozen graphs of export.py: an image -> depth PNG (+ .npy), or a snippet of
seq_length consecutive images -> pose JSON (the other frames' poses relative to the first frame
and the network's raw target-to-source vectors).

    python infer.py --export_dir=/export --image=frame.png --output_dir=/out
    python infer.py --export_dir=/export --snippet f0.png f1.png f2.png --output_dir=/out
"""

import argparse
import json
import os

import numpy as np
import tensorflow as tf
from geonet_test_depth import depth_panel
from geonet_test_pose import load_frame, stack_snippet
from PIL import Image

from posekit import tfdevice, trajectory


def load_graph(path):
    graph_def = tf.compat.v1.GraphDef()
    with open(path, "rb") as f:
        graph_def.ParseFromString(f.read())
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
    return graph


def run_graph(export_dir, meta, key, feed):
    graph = load_graph(os.path.join(export_dir, meta[key]["file"]))
    with tf.compat.v1.Session(graph=graph, config=tfdevice.session_config()) as sess:
        return sess.run(meta[key]["output"], {meta[key]["input"]: feed[None]})[0]


def read_meta(export_dir):
    path = os.path.join(export_dir, "geonet_export.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} not found: run export.py first")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def infer_depth(export_dir, image_path, output_dir):
    meta = read_meta(export_dir)
    frame = load_frame(image_path, meta["img_height"], meta["img_width"])
    depth = run_graph(export_dir, meta, "depth", frame)
    os.makedirs(output_dir, exist_ok=True)
    stem = os.path.splitext(os.path.basename(image_path))[0]
    np.save(os.path.join(output_dir, stem + "_depth.npy"), depth)
    png = os.path.join(output_dir, stem + "_depth.png")
    Image.fromarray(depth_panel(frame, depth)).save(png)
    return png, depth


def infer_pose(export_dir, image_paths, output_dir):
    meta = read_meta(export_dir)
    if len(image_paths) != meta["seq_length"]:
        raise ValueError(
            f"the exported pose graph takes {meta['seq_length']} frames, got {len(image_paths)}"
        )
    frames = [load_frame(p, meta["img_height"], meta["img_width"]) for p in image_paths]
    vectors = run_graph(export_dir, meta, "pose", stack_snippet(frames))
    snippet = trajectory.snippet_from_pose_vectors(vectors)
    result = {
        "frames": list(image_paths),
        "poses_in_first_frame": [T[:3].tolist() for T in snippet],
        "target_to_source_vectors": vectors.tolist(),
        "convention": "3x4 camera-to-first-camera; vectors (tx,ty,tz,rx,ry,rz), R = Rx Ry Rz; "
        "translation in the network's (unknown) scale",
    }
    os.makedirs(output_dir, exist_ok=True)
    path = os.path.join(output_dir, "pose.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    return path, result


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--export_dir", required=True)
    p.add_argument("--output_dir", required=True)
    p.add_argument("--image", help="one image: depth")
    p.add_argument("--snippet", nargs="+", help="seq_length consecutive images: pose")
    args = p.parse_args(argv)
    if not args.image and not args.snippet:
        p.error("give --image and/or --snippet")
    if args.image:
        png, depth = infer_depth(args.export_dir, args.image, args.output_dir)
        print(f"depth {depth.shape} (median {np.median(depth):.3f}) -> {png}")
    if args.snippet:
        path, _ = infer_pose(args.export_dir, args.snippet, args.output_dir)
        print(f"pose -> {path}")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
    main()
