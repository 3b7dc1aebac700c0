"""Freeze a GeoNet checkpoint into inference graphs (GraphDef .pb with the weights as constants).

    python export.py --ckpt_file=/ckpt/model-300000 --output_dir=/export --seq_length=5

writes `geonet_depth.pb` (input `raw_input` uint8 [1, H, W, 3] -> `depth` float32 [1, H, W]) and
`geonet_pose.pb` (input `raw_input` uint8 [1, H, W, 3 * seq_length], target first, then the
earlier and the later frames -> `pose` float32 [1, seq_length - 1, 6]), plus `geonet_export.json`
recording the sizes, so infer.py needs nothing else. The network options must match training.
With --onnx, also `geonet_depth.onnx` and `geonet_pose.onnx` (tf2onnx 1.9.3, opset 11; same
inputs and outputs; tf2onnx's last release for TF 1.15 on Python 3.7, checked against
onnxruntime 1.10 in tests/test_train.py).
"""

import argparse
import json
import os

import tensorflow as tf
from geonet_config import config
from geonet_test_depth import build_depth_graph
from geonet_test_pose import build_pose_graph


def to_onnx(pb_path, output_node, onnx_path, opset=11):
    import tf2onnx.convert

    graph_def = tf.compat.v1.GraphDef()
    with open(pb_path, "rb") as f:
        graph_def.ParseFromString(f.read())
    tf2onnx.convert.from_graph_def(
        graph_def, input_names=["raw_input:0"], output_names=[f"{output_node}:0"], opset=opset,
        output_path=onnx_path,
    )  # fmt: skip


def freeze(cfg, ckpt_file, build, output_node, path):
    with tf.Graph().as_default() as graph:
        build(cfg, batch_size=1)
        saver = tf.compat.v1.train.Saver(tf.compat.v1.model_variables())
        with tf.compat.v1.Session(graph=graph) as sess:
            saver.restore(sess, ckpt_file)
            frozen = tf.compat.v1.graph_util.convert_variables_to_constants(
                sess, graph.as_graph_def(), [output_node]
            )
    frozen = tf.compat.v1.graph_util.remove_training_nodes(frozen, protected_nodes=[output_node])
    with open(path, "wb") as f:
        f.write(frozen.SerializeToString())
    return len(frozen.node)


def export(ckpt_file, output_dir, onnx=False, **options):
    os.makedirs(output_dir, exist_ok=True)
    depth_cfg = config(mode="test_depth", **options)
    pose_cfg = config(mode="test_pose", **options)
    n_depth = freeze(
        depth_cfg,
        ckpt_file,
        build_depth_graph,
        "depth",
        os.path.join(output_dir, "geonet_depth.pb"),
    )
    n_pose = freeze(
        pose_cfg, ckpt_file, build_pose_graph, "pose", os.path.join(output_dir, "geonet_pose.pb")
    )
    meta = {
        "checkpoint": os.path.abspath(ckpt_file),
        "img_height": depth_cfg.img_height,
        "img_width": depth_cfg.img_width,
        "seq_length": pose_cfg.seq_length,
        "depth": {"file": "geonet_depth.pb", "input": "raw_input:0", "output": "depth:0"},
        "pose": {"file": "geonet_pose.pb", "input": "raw_input:0", "output": "pose:0"},
    }
    if onnx:
        for key in ("depth", "pose"):
            pb = os.path.join(output_dir, meta[key]["file"])
            meta[key]["onnx"] = f"geonet_{key}.onnx"
            to_onnx(pb, key, os.path.join(output_dir, meta[key]["onnx"]))
    with open(os.path.join(output_dir, "geonet_export.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2)
    print(f"exported depth ({n_depth} nodes) and pose ({n_pose} nodes) graphs to {output_dir}")
    return meta


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ckpt_file", required=True, help="checkpoint prefix, e.g. ckpt/model-1000")
    p.add_argument("--output_dir", required=True)
    p.add_argument("--img_height", type=int, default=128)
    p.add_argument("--img_width", type=int, default=416)
    p.add_argument("--seq_length", type=int, default=3)
    p.add_argument("--dispnet_encoder", default="resnet50", choices=["resnet50", "vgg"])
    p.add_argument("--net_width", type=float, default=1.0)
    p.add_argument("--pose_net_width", type=float, default=0.0, help="0: --net_width")
    p.add_argument("--scale_normalize", action="store_true")
    p.add_argument("--onnx", action="store_true", help="also write ONNX models (tf2onnx)")
    args = p.parse_args(argv)
    options = {k: v for k, v in vars(args).items() if k not in ("ckpt_file", "output_dir", "onnx")}
    export(args.ckpt_file, args.output_dir, onnx=args.onnx, **options)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
    main()
