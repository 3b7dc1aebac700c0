"""Projective geometry in TensorFlow: pose vectors, rigid flow from depth and pose, warping.

Conventions (as GeoNet/SfMLearner): a pose vector is (tx, ty, tz, rx, ry, rz) with R = Rx Ry Rz;
the pose network's output for source k maps points from the target camera frame into source
camera k. Pixel (u, v) has its centre at integer coordinates, u to the right, v down; flow is
(du, dv) in pixels from the target image to the source image.
"""

import numpy as np
import tensorflow as tf


def euler_to_matrix(rx, ry, rz):
    """[B] angles (radians) -> [B, 3, 3] rotations R = Rx @ Ry @ Rz."""
    zeros = tf.zeros_like(rx)
    ones = tf.ones_like(rx)
    cx, sx = tf.cos(rx), tf.sin(rx)
    cy, sy = tf.cos(ry), tf.sin(ry)
    cz, sz = tf.cos(rz), tf.sin(rz)

    def mat(rows):
        return tf.stack([tf.stack(r, axis=-1) for r in rows], axis=-2)

    rot_x = mat([[ones, zeros, zeros], [zeros, cx, -sx], [zeros, sx, cx]])
    rot_y = mat([[cy, zeros, sy], [zeros, ones, zeros], [-sy, zeros, cy]])
    rot_z = mat([[cz, -sz, zeros], [sz, cz, zeros], [zeros, zeros, ones]])
    return tf.matmul(tf.matmul(rot_x, rot_y), rot_z)


def pose_vec_to_mat(vec):
    """[B, 6] pose vectors -> [B, 4, 4] homogeneous transforms."""
    # Angles beyond +-pi mean nothing more; clipping keeps early-training outliers bounded.
    angles = tf.clip_by_value(vec[:, 3:], -np.pi, np.pi)
    rot = euler_to_matrix(angles[:, 0], angles[:, 1], angles[:, 2])
    top = tf.concat([rot, tf.expand_dims(vec[:, :3], -1)], axis=2)
    bottom = tf.tile(tf.constant([[[0.0, 0.0, 0.0, 1.0]]]), [tf.shape(vec)[0], 1, 1])
    return tf.concat([top, bottom], axis=1)


def invert_rigid(mat):
    """Inverse of [B, 4, 4] rigid transforms: [R^T, -R^T t]."""
    rot_t = tf.transpose(mat[:, :3, :3], [0, 2, 1])
    trans = -tf.matmul(rot_t, mat[:, :3, 3:])
    top = tf.concat([rot_t, trans], axis=2)
    return tf.concat([top, mat[:, 3:, :]], axis=1)


def pixel_grid(height, width):
    """[3, H*W] homogeneous pixel coordinates (u, v, 1), row-major."""
    u, v = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    grid = np.stack([u.ravel(), v.ravel(), np.ones(height * width, np.float32)])
    return tf.constant(grid)


def invert_intrinsics(intrinsics):
    """[B, 3, 3] pinhole intrinsics (no skew) -> inverses, in closed form."""
    fx, fy = intrinsics[:, 0, 0], intrinsics[:, 1, 1]
    cx, cy = intrinsics[:, 0, 2], intrinsics[:, 1, 2]
    zeros, ones = tf.zeros_like(fx), tf.ones_like(fx)
    rows = [
        tf.stack([1.0 / fx, zeros, -cx / fx], axis=-1),
        tf.stack([zeros, 1.0 / fy, -cy / fy], axis=-1),
        tf.stack([zeros, zeros, ones], axis=-1),
    ]
    return tf.stack(rows, axis=1)


def compute_rigid_flow(depth, pose, intrinsics, reverse_pose=False):
    """Flow from the target image to the source image induced by depth and camera motion.

    depth: [B, H, W] depth of the target image; pose: [B, 6] target-to-source pose vector (or
    source-to-target when reverse_pose, which inverts it); intrinsics: [B, 3, 3].
    Returns [B, H, W, 2] flow (du, dv) in pixels.
    """
    batch, height, width = depth.get_shape().as_list()
    transform = pose_vec_to_mat(pose)
    if reverse_pose:
        transform = invert_rigid(transform)
    grid = pixel_grid(height, width)
    rays = tf.matmul(invert_intrinsics(intrinsics), tf.tile(grid[None], [batch, 1, 1]))
    points = rays * tf.reshape(depth, [batch, 1, height * width])
    moved = tf.matmul(transform[:, :3, :3], points) + transform[:, :3, 3:]
    projected = tf.matmul(intrinsics, moved)
    # Points behind or on the camera plane get a tiny positive z: their flow is huge and the
    # sampler clamps them to the border instead of producing inf/NaN.
    z = tf.maximum(projected[:, 2:3], 1e-3)
    src_uv = projected[:, :2] / z
    flow = src_uv - grid[None, :2]
    return tf.reshape(tf.transpose(flow, [0, 2, 1]), [batch, height, width, 2])


def bilinear_sample(images, coords):
    """Sample [B, Hs, Ws, C] images at [B, H, W, 2] pixel coordinates (x, y), bilinearly.

    Coordinates outside the image are clamped to its border (edge replication).
    """
    batch, height_s, width_s, channels = images.get_shape().as_list()
    out_shape = tf.shape(coords)[:3]
    x = tf.clip_by_value(coords[..., 0], 0.0, width_s - 1.0)
    y = tf.clip_by_value(coords[..., 1], 0.0, height_s - 1.0)
    x0 = tf.floor(x)
    y0 = tf.floor(y)
    x1 = tf.minimum(x0 + 1.0, width_s - 1.0)
    y1 = tf.minimum(y0 + 1.0, height_s - 1.0)
    wx = tf.expand_dims(x - x0, -1)
    wy = tf.expand_dims(y - y0, -1)
    flat = tf.reshape(images, [-1, channels])
    base = tf.reshape(tf.range(batch) * height_s * width_s, [batch, 1, 1])

    def gather(yy, xx):
        idx = base + tf.cast(yy, tf.int32) * width_s + tf.cast(xx, tf.int32)
        return tf.reshape(
            tf.gather(flat, tf.reshape(idx, [-1])), tf.concat([out_shape, [channels]], 0)
        )

    top = gather(y0, x0) * (1.0 - wx) + gather(y0, x1) * wx
    bottom = gather(y1, x0) * (1.0 - wx) + gather(y1, x1) * wx
    return top * (1.0 - wy) + bottom * wy


def flow_targets(flow):
    """[B, H, W, 2] flow -> where each pixel lands, p + flow(p), as (x, y)."""
    _, height, width, _ = flow.get_shape().as_list()
    u, v = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return tf.constant(np.stack([u, v], axis=-1)[None]) + flow


def flow_warp(src_images, flow):
    """Inverse-warp source images to the target view: out(p) = src(p + flow(p))."""
    return bilinear_sample(src_images, flow_targets(flow))


def in_view(flow):
    """[B, H, W, 1] float mask: 1 where p + flow(p) falls inside the image (no gradient)."""
    _, height, width, _ = flow.get_shape().as_list()
    x, y = tf.unstack(flow_targets(flow), axis=-1)
    inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)
    return tf.stop_gradient(tf.cast(inside, tf.float32)[..., None])


def make_intrinsics(fx, fy, cx, cy):
    """[B] focal lengths and principal points -> [B, 3, 3] intrinsics."""
    zeros, ones = tf.zeros_like(fx), tf.ones_like(fx)
    return tf.stack(
        [
            tf.stack([fx, zeros, cx], axis=-1),
            tf.stack([zeros, fy, cy], axis=-1),
            tf.stack([zeros, zeros, ones], axis=-1),
        ],
        axis=1,
    )


def resized_intrinsics(intrinsics, zoom_x, zoom_y, crop_x=0.0, crop_y=0.0):
    """[B, 3, 3] intrinsics of images area-resampled by (zoom_x, zoom_y), then cropped from
    column crop_x and row crop_y.

    The principal point moves as (c + 0.5) * zoom - 0.5 (output pixel centres sit at
    (i + 0.5) / zoom - 0.5 of the input; posekit.geometry.resized_intrinsics explains why it
    matters). The reference scaled c by the zoom alone, which shifts it by up to half a pixel
    at the coarsest scale: a constant camera rotation the pose network can only absorb as heading.
    """
    return make_intrinsics(
        intrinsics[:, 0, 0] * zoom_x,
        intrinsics[:, 1, 1] * zoom_y,
        (intrinsics[:, 0, 2] + 0.5) * zoom_x - 0.5 - crop_x,
        (intrinsics[:, 1, 2] + 0.5) * zoom_y - 0.5 - crop_y,
    )


def multi_scale_intrinsics(intrinsics, num_scales):
    """[B, 3, 3] -> [B, num_scales, 3, 3]: scale s has the image area-downsampled by 2^s."""
    return tf.stack(
        [resized_intrinsics(intrinsics, 0.5**s, 0.5**s) for s in range(num_scales)], axis=1
    )
