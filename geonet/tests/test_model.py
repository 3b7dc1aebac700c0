"""Graph construction of every mode; the paper's PoseNet layer sizes; which variables train."""

import numpy as np
import pytest
import tensorflow as tf
from geonet_config import config
from geonet_main import learning_rate, variables_to_train_and_restore
from geonet_model import GeoNetModel
from utils import multi_scale_intrinsics


def build(mode, **options):
    cfg = config(mode=mode, **options)
    b, h, w = cfg.batch_size, cfg.img_height, cfg.img_width
    rng = np.random.default_rng(0)
    tgt = tf.constant(rng.integers(0, 255, (b, h, w, 3)).astype(np.uint8))
    src = tf.constant(rng.integers(0, 255, (b, h, w, 3 * cfg.num_source)).astype(np.uint8))
    K = np.array([[w * 0.6, 0, w / 2], [0, h * 1.8, h / 2], [0, 0, 1]], np.float32)
    intrinsics = multi_scale_intrinsics(tf.constant(np.tile(K, (b, 1, 1))), cfg.num_scales)
    return cfg, GeoNetModel(cfg, tgt, src, intrinsics)


def n_params(scope):
    return int(
        sum(np.prod(v.get_shape().as_list()) for v in tf.compat.v1.trainable_variables(scope))
    )


def test_posenet_has_the_papers_layers():
    with tf.Graph().as_default():
        cfg, model = build("test_pose", img_height=128, img_width=416, seq_length=5, batch_size=1)
        assert model.pred_poses.get_shape().as_list() == [1, 4, 6]
        # 7 stride-2 convs (kernel, channels) with batch norm (beta, no bias), then 1x1 -> 6 x 4
        layers = [(7, 16), (5, 32), (3, 64), (3, 128), (3, 256), (3, 256), (3, 256)]
        expected, c_in = 0, 3 * 5
        for k, c in layers:
            expected += k * k * c_in * c + c
            c_in = c
        expected += 256 * 24 + 24
        assert n_params("pose_net") == expected


def test_pose_net_width_sets_the_pose_net_alone():
    def sizes(**widths):
        with tf.Graph().as_default():
            build("train_rigid", img_height=32, img_width=64, seq_length=3, batch_size=1,
                  dispnet_encoder="vgg", **widths)  # fmt: skip
            return n_params("pose_net"), n_params("depth_net")

    half = sizes(net_width=0.5)
    mixed = sizes(net_width=0.5, pose_net_width=1.0)
    full = sizes(net_width=1.0)
    assert mixed == (full[0], half[1])


@pytest.mark.parametrize("encoder", ["resnet50", "vgg"])
def test_rigid_stage_builds_with_finite_losses(encoder):
    with tf.Graph().as_default():
        cfg, model = build(
            "train_rigid", img_height=64, img_width=128, seq_length=3, batch_size=2,
            dispnet_encoder=encoder, net_width=0.125,
        )  # fmt: skip
        assert [d.get_shape().as_list() for d in model.pred_disp] == [
            [6, 64, 128, 1], [6, 32, 64, 1], [6, 16, 32, 1], [6, 8, 16, 1],
        ]  # fmt: skip
        assert model.fwd_rigid_flow_pyramid[0].get_shape().as_list() == [4, 64, 128, 2]
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            losses, disp = sess.run([model.losses, model.pred_disp[0]])
        assert set(losses) == {"rigid_warp", "disp_smooth"}
        assert all(np.isfinite(v) and v > 0 for v in losses.values())
        scale = 5.0 if encoder == "resnet50" else 10.0
        assert disp.min() >= 0.01 and disp.max() <= scale + 0.01


def test_ssim_matches_a_numpy_computation():
    # SSIM dissimilarity (1 - SSIM) / 2 with 3x3 means over the pixels inside the image
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-1, 1, (2, 2, 7, 9, 3))

    def local_mean(a):
        padded = np.pad(a, [(0, 0), (1, 1), (1, 1), (0, 0)])
        count = np.pad(np.ones_like(a), [(0, 0), (1, 1), (1, 1), (0, 0)])
        window = [(slice(i, i + 7), slice(j, j + 9)) for i in range(3) for j in range(3)]
        total = sum(padded[:, r, c] for r, c in window)
        return total / sum(count[:, r, c] for r, c in window)

    mx, my = local_mean(x), local_mean(y)
    vx, vy = local_mean(x * x) - mx**2, local_mean(y * y) - my**2
    cxy = local_mean(x * y) - mx * my
    c1, c2 = 0.01**2, 0.03**2
    ssim = (2 * mx * my + c1) * (2 * cxy + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    with tf.Graph().as_default():
        _, model = build("test_pose", img_height=32, img_width=64, seq_length=3, batch_size=1,
                         net_width=0.125)  # fmt: skip
        with tf.compat.v1.Session() as sess:
            got = sess.run(model.ssim(tf.constant(x, tf.float32), tf.constant(y, tf.float32)))
    np.testing.assert_allclose(got, np.clip((1 - ssim) / 2, 0, 1), atol=1e-5)


def test_out_of_view_mask_leaves_those_pixels_out_of_the_rigid_loss():
    with tf.Graph().as_default():
        options = dict(img_height=32, img_width=64, seq_length=3, batch_size=2, net_width=0.125)
        cfg, model = build("train_rigid", dispnet_encoder="vgg", mask_out_of_view=True, **options)
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            got = sess.run({
                "flow": model.fwd_rigid_flow_pyramid[0],
                "masks": (model.fwd_in_view_pyramid, model.bwd_in_view_pyramid),
                "errors": (model.fwd_rigid_error_pyramid, model.bwd_rigid_error_pyramid),
                "loss": model.losses["rigid_warp"],
            })  # fmt: skip
    v, u = np.mgrid[0:32, 0:64]
    x, y = u + got["flow"][..., 0], v + got["flow"][..., 1]
    inside = (x >= 0) & (x <= 63) & (y >= 0) & (y <= 31)
    np.testing.assert_array_equal(got["masks"][0][0][..., 0], inside)
    assert not inside.all()  # the random network's flow moves some pixels out
    # per scale and direction: the mean error over the pixels in view
    expected = sum(
        error.mean(axis=3)[mask[..., 0] > 0].mean()
        for masks, errors in zip(got["masks"], got["errors"])
        for mask, error in zip(masks, errors)
    )
    assert got["loss"] == pytest.approx(cfg.num_source / 2 * expected, rel=1e-5)


def test_flow_stage_trains_only_the_flow_net():
    with tf.Graph().as_default():
        cfg, model = build(
            "train_flow", img_height=64, img_width=128, seq_length=3, batch_size=2,
            dispnet_encoder="vgg", net_width=0.125,
        )  # fmt: skip
        train_vars, restore_vars, update_ops = variables_to_train_and_restore(cfg)
        assert train_vars and all(v.op.name.startswith("flow_net/") for v in train_vars)
        scopes = {v.op.name.split("/")[0] for v in restore_vars}
        assert scopes == {"depth_net", "pose_net"}
        assert all("flow_net" in op.name for op in update_ops)
        assert model.fwd_full_flow_pyramid[0].get_shape().as_list() == [4, 64, 128, 2]
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            losses = sess.run(model.losses)
        assert set(losses) == {"flow_warp", "flow_smooth", "flow_consistency"}
        assert all(np.isfinite(v) for v in losses.values())


def test_direct_flow_net_needs_no_rigid_networks():
    with tf.Graph().as_default():
        cfg, _ = build("train_flow", img_height=64, img_width=128, seq_length=3, batch_size=1,
                       flownet_type="direct", net_width=0.125)  # fmt: skip
        assert not cfg.add_dispnet and not cfg.add_posenet
        assert not tf.compat.v1.trainable_variables("depth_net")


def test_config_rejects_bad_options_and_is_read_only():
    with pytest.raises(ValueError, match="--mode must be one of"):
        config(mode="train")
    with pytest.raises(ValueError, match="odd"):
        config(mode="train_rigid", seq_length=4)
    with pytest.raises(ValueError, match="multiples of 8"):
        config(mode="train_rigid", img_height=100)
    cfg = config(mode="train_rigid")
    assert (cfg.learning_rate, cfg.alpha_recon_image, cfg.disp_smooth_weight) == (0.0002, 0.85, 0.5)
    assert (cfg.flow_smooth_weight, cfg.flow_consistency_weight) == (0.2, 0.2)
    assert (cfg.img_height, cfg.img_width, cfg.batch_size, cfg.seq_length) == (128, 416, 4, 3)
    with pytest.raises(AttributeError, match="read-only"):
        cfg.learning_rate = 1.0


def test_learning_rate_is_the_papers_constant_unless_a_drop_is_asked_for():
    assert learning_rate(config(mode="train_rigid"), None) == 0.0002
    cfg = config(mode="train_rigid", learning_rate=0.002, lr_drop_step=450)
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        step = tf.compat.v1.placeholder(tf.int64, [])
        lr = learning_rate(cfg, step)
        rates = [sess.run(lr, {step: s}) for s in (0, 450, 451, 600)]
    np.testing.assert_allclose(rates, [0.002, 0.002, 0.0002, 0.0002], rtol=1e-6)


def test_rigid_losses_fall_when_fitting_one_rendered_batch(synthetic_kitti):
    """A few Adam steps on one real-format batch: depth and pose must explain the frames better."""
    import cv2

    from posekit import geometry, kitti
    from posekit.synth import kitti as synth

    h, w = 32, 96
    frames = [
        cv2.cvtColor(
            cv2.resize(cv2.imread(kitti.image_path(synthetic_kitti, 0, i)), (w, h),
                       interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
        for i in range(2, 11)
    ]  # fmt: skip
    tgt = np.stack([frames[i] for i in (1, 4, 7)])
    src = np.stack([np.concatenate([frames[i - 1], frames[i + 1]], 2) for i in (1, 4, 7)])
    K = geometry.resized_intrinsics(synth.intrinsics(192, 64), 0.5, 0.5)
    cfg = config(mode="train_rigid", img_height=h, img_width=w, seq_length=3, batch_size=3,
                 dispnet_encoder="vgg", net_width=0.25)  # fmt: skip
    with tf.Graph().as_default():
        tf.compat.v1.set_random_seed(0)
        intrinsics = multi_scale_intrinsics(tf.constant(np.tile(K, (3, 1, 1)), tf.float32), 4)
        model = GeoNetModel(cfg, tf.constant(tgt), tf.constant(src), intrinsics)
        with tf.control_dependencies(
            tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
        ):
            step = tf.compat.v1.train.AdamOptimizer(1e-3).minimize(model.total_loss)
        warp = model.losses["rigid_warp"]
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            first = sess.run(warp)
            for _ in range(40):
                sess.run(step)
            last = sess.run(warp)
    assert last < 0.8 * first, (first, last)
