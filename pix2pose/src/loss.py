"""Pix2Pose losses (paper section 3.2, reference transformer_loss and 3_train_pix2pose.py).

Per pixel, l = mean over x, y, z of |prediction - target|; the transformer loss takes, per
sample, the symmetric target with the smallest summed l. The reconstruction loss is
mean(beta * l on object pixels + l elsewhere) with beta = 3, the expected-error loss
mean((e - min(l, 1))^2); the generator minimises
    lambda_r * (L_r + 0.5 * L_e) + lambda_gan * BCE(D(G(x)), 1),  lambda_r = 100, lambda_gan = 1
(= the paper's lambda1 = 100, lambda2 = 50).
"""

from __future__ import annotations

import tensorflow as tf

BETA = 3.0
ERROR_WEIGHT = 0.5
LAMBDA_RECON = 100.0
LAMBDA_GAN = 1.0


def transformer_loss(pred, target, error, visible, sym_A, sym_b):
    """pred, target (N, H, W, 3) normalised coordinates, error (N, H, W, 1), visible (N, H, W)
    object mask (1 = object, occluded or not); sym_A (P, 3, 3), sym_b (P, 3).
    Returns (per-sample loss (N,), per-pixel chosen l (N, H, W))."""
    sym_A = tf.convert_to_tensor(sym_A, pred.dtype)
    sym_b = tf.convert_to_tensor(sym_b, pred.dtype)
    mask = visible[..., None]
    # (P, N, H, W, 3): every symmetric version of the target, background kept at 0
    mapped = tf.einsum("pij,nhwj->pnhwi", sym_A, target) + sym_b[:, None, None, None, :]
    mapped = mapped * mask[None] + target[None] * (1.0 - mask[None])
    loss_all = tf.reduce_mean(tf.abs(mapped - pred[None]), axis=-1)  # (P, N, H, W)
    best = tf.argmin(tf.reduce_sum(loss_all, axis=[2, 3]), axis=0)  # (N,)
    choose = tf.transpose(tf.one_hot(best, tf.shape(sym_A)[0], dtype=pred.dtype))  # (P, N)
    pix = tf.reduce_sum(loss_all * choose[:, :, None, None], axis=0)
    err_loss = tf.square(error[..., 0] - tf.minimum(pix, 1.0))
    per_pixel = BETA * visible * pix + (1.0 - visible) * pix + ERROR_WEIGHT * err_loss
    return tf.reduce_mean(per_pixel, axis=[1, 2]), pix


def bce(prob, label):
    eps = 1e-7
    prob = tf.clip_by_value(prob, eps, 1.0 - eps)
    return -tf.reduce_mean(label * tf.math.log(prob) + (1.0 - label) * tf.math.log(1.0 - prob))
