"""Inference graphs: the generator from HDF5 weights, and the frozen .pb export."""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from posekit import tfdevice
from src import model, weights

INPUT_NAME = "input"
OUTPUT_NAMES = ("generator/xyz_out", "generator/error_out")


class GeneratorSession:
    """The generator in inference mode with weights from inference.hdf5 or a training file."""

    def __init__(self, weight_path: str, size: int, width: float):
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.x = tf.compat.v1.placeholder(tf.float32, [None, size, size, 3], INPUT_NAME)
            self.xyz, self.err = model.generator(self.x, False, width, size)
            self.sess = tf.compat.v1.Session(graph=self.graph, config=tfdevice.session_config())
            weights.assign_variables(
                weight_path, self.sess, tf.compat.v1.global_variables("generator")
            )
        self.size = size

    def __call__(self, batch: np.ndarray):
        return self.sess.run([self.xyz, self.err], {self.x: batch})

    def close(self):
        self.sess.close()


def freeze(weight_path: str, out_path: str, size: int, width: float) -> str:
    """Writes a frozen GraphDef: input `input:0` (N, size, size, 3) in [-1, 1]; outputs
    `generator/xyz_out:0` and `generator/error_out:0`."""
    g = GeneratorSession(weight_path, size, width)
    with g.graph.as_default():
        frozen = tf.compat.v1.graph_util.convert_variables_to_constants(
            g.sess, g.graph.as_graph_def(), list(OUTPUT_NAMES)
        )
    g.close()
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    tmp = out_path + ".part"
    with tf.io.gfile.GFile(tmp, "wb") as f:
        f.write(frozen.SerializeToString())
    os.replace(tmp, out_path)
    return out_path


class FrozenGraph:
    """Runs a graph written by `freeze`."""

    def __init__(self, pb_path: str):
        if not os.path.exists(pb_path):
            raise FileNotFoundError(f"{pb_path}: frozen graph not found (run export.py)")
        gd = tf.compat.v1.GraphDef()
        with tf.io.gfile.GFile(pb_path, "rb") as f:
            try:
                gd.ParseFromString(f.read())
            except Exception as exc:  # protobuf raises DecodeError
                raise ValueError(f"{pb_path}: not a frozen TensorFlow graph ({exc})") from None
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.import_graph_def(gd, name="")
        self.x = self.graph.get_tensor_by_name(INPUT_NAME + ":0")
        self.outs = [self.graph.get_tensor_by_name(n + ":0") for n in OUTPUT_NAMES]
        self.size = int(self.x.shape[1])
        self.sess = tf.compat.v1.Session(graph=self.graph, config=tfdevice.session_config())

    def __call__(self, batch: np.ndarray):
        return self.sess.run(self.outs, {self.x: batch})

    def close(self):
        self.sess.close()
