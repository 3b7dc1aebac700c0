"""GeoNetModel: builds the rigid (DepthNet + PoseNet) and flow (ResFlowNet) stages and losses.

Shapes: tgt_image [B, H, W, 3] and src_image_stack [B, H, W, 3 * num_source] uint8 (or float in
[0, 1]); intrinsics [B, num_scales, 3, 3]. Sources are concatenated along the batch axis
(source k occupies rows k*B .. (k+1)*B - 1), and so are all the per-source tensors below.

Losses (paper section 3, reference defaults):
- rigid warping: alpha * (1 - SSIM) / 2 + (1 - alpha) * |I - I_warp|, alpha = 0.85, averaged per
  scale, forward (sources warped to target) and backward (target warped to each source); with
  --mask_out_of_view (not the paper's) only over the pixels whose rigid flow stays in the image;
- edge-aware disparity smoothness |d_x I-weighted| with weight 0.5 / 2^s;
- flow stage: the same photometric term with full flow, masked by the forward-backward
  consistency check |F_fw + F_bw(warped)| < max(alpha_c, beta_c * |F|) (3.0 and 0.05), flow
  smoothness 0.2 / 2^(s+1), and the consistency term itself with weight 0.2.
"""

import tensorflow as tf
import tensorflow.contrib.slim as slim
from geonet_nets import disp_net, flow_net, pose_net
from utils import compute_rigid_flow, flow_warp, in_view

TRAIN_MODES = ("train_rigid", "train_flow")


class GeoNetModel:
    def __init__(self, cfg, tgt_image, src_image_stack, intrinsics):
        self.cfg = cfg
        self.tgt_image = self.preprocess_image(tgt_image)
        self.src_image_stack = (
            None if src_image_stack is None else self.preprocess_image(src_image_stack)
        )
        self.intrinsics = intrinsics
        self.build_model()
        if cfg.mode in TRAIN_MODES:
            self.build_losses()

    # ------------------------------------------------------------------ graph

    def build_model(self):
        cfg = self.cfg
        self.tgt_image_pyramid = self.scale_pyramid(self.tgt_image, cfg.num_scales)
        self.tgt_image_tile_pyramid = [
            tf.tile(img, [cfg.num_source, 1, 1, 1]) for img in self.tgt_image_pyramid
        ]
        if self.src_image_stack is not None:
            self.src_image_concat = tf.concat(
                [self.src_image_stack[..., 3 * i : 3 * (i + 1)] for i in range(cfg.num_source)],
                axis=0,
            )
            self.src_image_concat_pyramid = self.scale_pyramid(
                self.src_image_concat, cfg.num_scales
            )
        if cfg.add_dispnet:
            self.build_dispnet()
        if cfg.add_posenet:
            self.build_posenet()
        if cfg.add_dispnet and cfg.add_posenet:
            self.build_rigid_flow_warping()
        if cfg.add_flownet:
            self.build_flownet()
            if cfg.mode == "train_flow":
                self.build_full_flow_warping()
                if cfg.flow_consistency_weight > 0:
                    self.build_flow_consistency()

    def build_dispnet(self):
        cfg = self.cfg
        if cfg.mode == "test_depth":
            inputs = self.tgt_image
        else:
            # target first, then each source: disp[k*B:(k+1)*B] belongs to frame k
            sources = [
                self.src_image_stack[..., 3 * i : 3 * (i + 1)] for i in range(cfg.num_source)
            ]
            inputs = tf.concat([self.tgt_image] + sources, axis=0)
        self.pred_disp = disp_net(
            inputs, cfg.dispnet_encoder, cfg.mode == "train_rigid", cfg.net_width, cfg.bn_decay
        )
        if cfg.scale_normalize:
            self.pred_disp = [self.spatial_normalize(d) for d in self.pred_disp]
        self.pred_depth = [1.0 / d for d in self.pred_disp]

    def build_posenet(self):
        inputs = tf.concat([self.tgt_image, self.src_image_stack], axis=3)
        cfg = self.cfg
        self.pred_poses = pose_net(
            inputs, cfg.num_source, cfg.mode == "train_rigid", cfg.pose_width, cfg.bn_decay
        )

    def build_rigid_flow_warping(self):
        cfg = self.cfg
        bs = cfg.batch_size
        self.fwd_rigid_flow_pyramid, self.bwd_rigid_flow_pyramid = [], []
        for s in range(cfg.num_scales):
            fwd, bwd = [], []
            for i in range(cfg.num_source):
                pose = self.pred_poses[:, i, :]
                k = self.intrinsics[:, s]
                fwd.append(
                    compute_rigid_flow(tf.squeeze(self.pred_depth[s][:bs], 3), pose, k, False)
                )
                src_depth = self.pred_depth[s][bs * (i + 1) : bs * (i + 2)]
                bwd.append(compute_rigid_flow(tf.squeeze(src_depth, 3), pose, k, True))
            self.fwd_rigid_flow_pyramid.append(tf.concat(fwd, axis=0))
            self.bwd_rigid_flow_pyramid.append(tf.concat(bwd, axis=0))

        scales = range(cfg.num_scales)
        self.fwd_rigid_warp_pyramid = [
            flow_warp(self.src_image_concat_pyramid[s], self.fwd_rigid_flow_pyramid[s])
            for s in scales
        ]
        self.bwd_rigid_warp_pyramid = [
            flow_warp(self.tgt_image_tile_pyramid[s], self.bwd_rigid_flow_pyramid[s])
            for s in scales
        ]
        self.fwd_rigid_error_pyramid = [
            self.image_similarity(self.fwd_rigid_warp_pyramid[s], self.tgt_image_tile_pyramid[s])
            for s in scales
        ]
        self.bwd_rigid_error_pyramid = [
            self.image_similarity(self.bwd_rigid_warp_pyramid[s], self.src_image_concat_pyramid[s])
            for s in scales
        ]
        self.fwd_in_view_pyramid = [in_view(f) for f in self.fwd_rigid_flow_pyramid]
        self.bwd_in_view_pyramid = [in_view(f) for f in self.bwd_rigid_flow_pyramid]

    def build_flownet(self):
        cfg = self.cfg
        fwd_inputs = [self.tgt_image_tile_pyramid[0], self.src_image_concat_pyramid[0]]
        bwd_inputs = [self.src_image_concat_pyramid[0], self.tgt_image_tile_pyramid[0]]
        if cfg.flownet_type == "residual":
            fwd_inputs += [
                self.fwd_rigid_warp_pyramid[0],
                self.fwd_rigid_flow_pyramid[0],
                self.l2_norm(self.fwd_rigid_error_pyramid[0]),
            ]
            bwd_inputs += [
                self.bwd_rigid_warp_pyramid[0],
                self.bwd_rigid_flow_pyramid[0],
                self.l2_norm(self.bwd_rigid_error_pyramid[0]),
            ]
        inputs = tf.concat([tf.concat(fwd_inputs, 3), tf.concat(bwd_inputs, 3)], axis=0)
        pred_flow = flow_net(inputs, cfg.mode == "train_flow", cfg.net_width, cfg.bn_decay)
        # normalised (by width, height) -> pixels
        pixel_flow = []
        for flow in pred_flow:
            h, w = flow.get_shape().as_list()[1:3]
            pixel_flow.append(flow * tf.constant([w, h], dtype=tf.float32))
        n = cfg.batch_size * cfg.num_source
        self.fwd_full_flow_pyramid = [f[:n] for f in pixel_flow]
        self.bwd_full_flow_pyramid = [f[n:] for f in pixel_flow]
        if cfg.flownet_type == "residual":
            self.fwd_full_flow_pyramid = [
                f + r for f, r in zip(self.fwd_full_flow_pyramid, self.fwd_rigid_flow_pyramid)
            ]
            self.bwd_full_flow_pyramid = [
                f + r for f, r in zip(self.bwd_full_flow_pyramid, self.bwd_rigid_flow_pyramid)
            ]

    def build_full_flow_warping(self):
        scales = range(self.cfg.num_scales)
        self.fwd_full_warp_pyramid = [
            flow_warp(self.src_image_concat_pyramid[s], self.fwd_full_flow_pyramid[s])
            for s in scales
        ]
        self.bwd_full_warp_pyramid = [
            flow_warp(self.tgt_image_tile_pyramid[s], self.bwd_full_flow_pyramid[s]) for s in scales
        ]
        self.fwd_full_error_pyramid = [
            self.image_similarity(self.fwd_full_warp_pyramid[s], self.tgt_image_tile_pyramid[s])
            for s in scales
        ]
        self.bwd_full_error_pyramid = [
            self.image_similarity(self.bwd_full_warp_pyramid[s], self.src_image_concat_pyramid[s])
            for s in scales
        ]

    def build_flow_consistency(self):
        cfg = self.cfg
        fwd, bwd = self.fwd_full_flow_pyramid, self.bwd_full_flow_pyramid
        scales = range(cfg.num_scales)
        # backward flow sampled where the forward flow points, and vice versa
        bwd2fwd = [flow_warp(bwd[s], fwd[s]) for s in scales]
        fwd2bwd = [flow_warp(fwd[s], bwd[s]) for s in scales]
        self.fwd_flow_diff_pyramid = [tf.abs(bwd2fwd[s] + fwd[s]) for s in scales]
        self.bwd_flow_diff_pyramid = [tf.abs(fwd2bwd[s] + bwd[s]) for s in scales]

        def bound(flow, s):
            b = cfg.flow_consistency_beta * self.l2_norm(flow) * 2**s
            return tf.stop_gradient(tf.maximum(b, cfg.flow_consistency_alpha))

        self.noc_masks_tgt = [
            tf.cast(tf.less(self.l2_norm(self.fwd_flow_diff_pyramid[s]) * 2**s, bound(fwd[s], s)),
                    tf.float32)
            for s in scales
        ]  # fmt: skip
        self.noc_masks_src = [
            tf.cast(tf.less(self.l2_norm(self.bwd_flow_diff_pyramid[s]) * 2**s, bound(bwd[s], s)),
                    tf.float32)
            for s in scales
        ]  # fmt: skip

    # ------------------------------------------------------------------ losses

    def build_losses(self):
        cfg = self.cfg
        rigid_warp = disp_smooth = flow_warp_l = flow_smooth = flow_consistency = 0.0

        def masked_mean(error, mask):
            per_pixel = tf.reduce_mean(error, axis=3, keepdims=True)
            return tf.reduce_sum(per_pixel * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)

        for s in range(cfg.num_scales):
            if cfg.mode == "train_rigid":
                if cfg.rigid_warp_weight > 0:
                    fwd, bwd = self.fwd_rigid_error_pyramid[s], self.bwd_rigid_error_pyramid[s]
                    if cfg.mask_out_of_view:
                        fwd = masked_mean(fwd, self.fwd_in_view_pyramid[s])
                        bwd = masked_mean(bwd, self.bwd_in_view_pyramid[s])
                    else:
                        fwd, bwd = tf.reduce_mean(fwd), tf.reduce_mean(bwd)
                    rigid_warp += cfg.rigid_warp_weight * cfg.num_source / 2 * (fwd + bwd)
                if cfg.disp_smooth_weight > 0:
                    images = tf.concat(
                        [self.tgt_image_pyramid[s], self.src_image_concat_pyramid[s]], axis=0
                    )
                    disp_smooth += (
                        cfg.disp_smooth_weight
                        / 2**s
                        * self.compute_smooth_loss(self.pred_disp[s], images)
                    )
            if cfg.mode == "train_flow":
                if cfg.flow_warp_weight > 0:
                    if cfg.flow_consistency_weight > 0:
                        term = masked_mean(
                            self.fwd_full_error_pyramid[s], self.noc_masks_tgt[s]
                        ) + masked_mean(self.bwd_full_error_pyramid[s], self.noc_masks_src[s])
                    else:
                        term = tf.reduce_mean(self.fwd_full_error_pyramid[s]) + tf.reduce_mean(
                            self.bwd_full_error_pyramid[s]
                        )
                    flow_warp_l += cfg.flow_warp_weight * cfg.num_source / 2 * term
                if cfg.flow_smooth_weight > 0:
                    flow_smooth += (
                        cfg.flow_smooth_weight
                        / 2 ** (s + 1)
                        * (
                            self.compute_flow_smooth_loss(
                                self.fwd_full_flow_pyramid[s], self.tgt_image_tile_pyramid[s]
                            )
                            + self.compute_flow_smooth_loss(
                                self.bwd_full_flow_pyramid[s], self.src_image_concat_pyramid[s]
                            )
                        )
                    )
                if cfg.flow_consistency_weight > 0:
                    flow_consistency += (
                        cfg.flow_consistency_weight
                        / 2
                        * (
                            masked_mean(self.fwd_flow_diff_pyramid[s], self.noc_masks_tgt[s])
                            + masked_mean(self.bwd_flow_diff_pyramid[s], self.noc_masks_src[s])
                        )
                    )
        if cfg.mode == "train_rigid":
            self.losses = {"rigid_warp": rigid_warp, "disp_smooth": disp_smooth}
        else:
            self.losses = {
                "flow_warp": flow_warp_l,
                "flow_smooth": flow_smooth,
                "flow_consistency": flow_consistency,
            }
        self.losses = {k: tf.convert_to_tensor(v) for k, v in self.losses.items()}
        self.total_loss = tf.add_n(list(self.losses.values()))

    # ------------------------------------------------------------------ helpers

    def ssim(self, x, y):
        c1, c2 = 0.01**2, 0.03**2
        # the five 3x3 local means in one pooling op (fewer, larger ops run faster on the CPU)
        pooled = slim.avg_pool2d(tf.concat([x, y, x**2, y**2, x * y], axis=3), 3, 1, "SAME")
        mu_x, mu_y, mean_xx, mean_yy, mean_xy = tf.split(pooled, 5, axis=3)
        sigma_x = mean_xx - mu_x**2
        sigma_y = mean_yy - mu_y**2
        sigma_xy = mean_xy - mu_x * mu_y
        num = (2 * mu_x * mu_y + c1) * (2 * sigma_xy + c2)
        den = (mu_x**2 + mu_y**2 + c1) * (sigma_x + sigma_y + c2)
        return tf.clip_by_value((1 - num / den) / 2, 0, 1)

    def image_similarity(self, x, y):
        alpha = self.cfg.alpha_recon_image
        return alpha * self.ssim(x, y) + (1 - alpha) * tf.abs(x - y)

    @staticmethod
    def l2_norm(x):
        return tf.norm(tf.abs(x) + 1e-10, axis=3, keepdims=True)

    @staticmethod
    def spatial_normalize(disp):
        return disp / tf.reduce_mean(disp, axis=[1, 2, 3], keepdims=True)

    @staticmethod
    def scale_pyramid(img, num_scales):
        h, w = img.get_shape().as_list()[1:3]
        return [img] + [
            tf.image.resize_area(img, [h // 2**s, w // 2**s]) for s in range(1, num_scales)
        ]

    @staticmethod
    def compute_smooth_loss(disp, img):
        def grad_x(t):
            return t[:, :, :-1, :] - t[:, :, 1:, :]

        def grad_y(t):
            return t[:, :-1, :, :] - t[:, 1:, :, :]

        weight_x = tf.exp(-tf.reduce_mean(tf.abs(grad_x(img)), 3, keepdims=True))
        weight_y = tf.exp(-tf.reduce_mean(tf.abs(grad_y(img)), 3, keepdims=True))
        return tf.reduce_mean(tf.abs(grad_x(disp) * weight_x)) + tf.reduce_mean(
            tf.abs(grad_y(disp) * weight_y)
        )

    def compute_flow_smooth_loss(self, flow, img):
        return (
            self.compute_smooth_loss(flow[..., :1], img)
            + self.compute_smooth_loss(flow[..., 1:], img)
        ) / 2

    @staticmethod
    def preprocess_image(image):
        """uint8 or [0, 1] float -> [-1, 1] float32."""
        return tf.image.convert_image_dtype(image, dtype=tf.float32) * 2.0 - 1.0

    @staticmethod
    def deprocess_image(image):
        return tf.image.convert_image_dtype((image + 1.0) / 2.0, dtype=tf.uint8)
