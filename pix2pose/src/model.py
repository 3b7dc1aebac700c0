"""Pix2Pose networks (TF 1.15 graph mode), after the paper and the authors' ae_model.py.

Generator: four encoder blocks, each two parallel 5x5 stride-2 convolutions (BN, LeakyReLU)
concatenated; a 256-unit dense bottleneck; three decoder blocks (5x5 stride-2 transposed
convolution, then concatenation with the second branch of the encoder block of the same size
and a 5x5 convolution); two 5x5 stride-2 transposed-convolution heads at full resolution:
xyz (tanh, normalised object coordinates) and expected error (sigmoid).
Discriminator (DCGAN): log2(size) 3x3 stride-2 convolutions with 64 * min(8, 2^i) filters,
BN, LeakyReLU(0.2), dense sigmoid.
`width` scales every filter count (1.0 = the paper); `size` is the crop side (128 in the paper,
any multiple of 16).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

LEAKY_GEN = 0.3  # Keras LeakyReLU() default, used by the reference generator
LEAKY_DISC = 0.2


def _ch(n, width):
    return max(4, int(round(n * width)))


def _conv(x, filters, kernel, stride, name, training, alpha, bn=True, transpose=False):
    layer = tf.compat.v1.layers.conv2d_transpose if transpose else tf.compat.v1.layers.conv2d
    x = layer(x, filters, kernel, strides=stride, padding="same", name=name)
    if bn:
        x = tf.compat.v1.layers.batch_normalization(x, training=training, name=name + "_bn")
        x = tf.nn.leaky_relu(x, alpha)
    return x


def generator(images, training, width=1.0, size=128, reuse=tf.compat.v1.AUTO_REUSE):
    """images (N, size, size, 3) in [-1, 1] -> xyz (N, size, size, 3), error (N, size, size, 1)."""
    if size % 16:
        raise ValueError(f"crop size must be a multiple of 16, got {size}")
    a = LEAKY_GEN
    with tf.compat.v1.variable_scope("generator", reuse=reuse):
        feats = []
        x = images
        for i, n in enumerate((64, 128, 128, 256), start=1):
            b1 = _conv(x, _ch(n, width), 5, 2, f"conv{i}_1", training, a)
            b2 = _conv(x, _ch(n, width), 5, 2, f"conv{i}_2", training, a)
            feats.append(b2)
            x = tf.concat([b1, b2], axis=3)
        s = size // 16
        x = tf.compat.v1.layers.flatten(x)
        x = tf.compat.v1.layers.dense(x, _ch(256, width), name="bottleneck")
        x = tf.compat.v1.layers.dense(x, s * s * _ch(256, width), name="dense_up")
        x = tf.reshape(x, [-1, s, s, _ch(256, width)])
        for i, (n_up, n_conv) in enumerate(((256, 256), (128, 256), (64, 128)), start=1):
            x = _conv(x, _ch(n_up, width), 5, 2, f"up{i}", training, a, transpose=True)
            x = tf.concat([x, feats[3 - i]], axis=3)
            x = _conv(x, _ch(n_conv, width), 5, 1, f"deconv{i}", training, a)
        xyz = tf.compat.v1.layers.conv2d_transpose(x, 3, 5, 2, "same", name="xyz")
        err = tf.compat.v1.layers.conv2d_transpose(x, 1, 5, 2, "same", name="error")
        return tf.tanh(xyz, name="xyz_out"), tf.sigmoid(err, name="error_out")


def discriminator(xyz, training, width=1.0, size=128, reuse=tf.compat.v1.AUTO_REUSE):
    """xyz images (N, size, size, 3) -> probability (N, 1) that they are ground truth."""
    n_conv = int(np.floor(np.log2(size)))
    with tf.compat.v1.variable_scope("discriminator", reuse=reuse):
        x = xyz
        for i in range(n_conv):
            x = _conv(
                x, _ch(64 * min(8, 2**i), width), 3, 2, f"disc_conv{i + 1}", training, LEAKY_DISC
            )
        x = tf.compat.v1.layers.flatten(x)
        return tf.sigmoid(tf.compat.v1.layers.dense(x, 1, name="disc_dense"))


def count_params(scope: str) -> int:
    return int(
        sum(np.prod(v.shape.as_list()) for v in tf.compat.v1.trainable_variables(scope=scope))
    )
