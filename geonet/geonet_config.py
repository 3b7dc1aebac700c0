"""GeoNet's options: the reference defaults (yzcjtr/GeoNet geonet_main.py, CVPR 2018 paper), the
absl flags made from them, and the read-only config the model code takes.

Flags are parsed once and never assigned; values derived from them (number of sources, which
sub-networks a mode needs) live in the config returned by `make_config`.
"""

import types

# name -> (default, help). Types follow the defaults.
OPTIONS = {
    "mode": ("", "train_rigid, train_flow, test_depth, test_pose or test_flow"),
    "dataset_dir": ("", "prepared training data (train modes) or KITTI root (test modes)"),
    "init_ckpt_file": ("", "checkpoint to initialise from (train) or to test"),
    "batch_size": (4, "samples per batch (per worker when distributed)"),
    "num_threads": (32, "parallel calls of the input pipeline"),
    "img_height": (128, "network input height"),
    "img_width": (416, "network input width"),
    "seq_length": (3, "frames per sample (odd, target in the centre); 5 for pose evaluation"),
    "checkpoint_dir": ("", "where checkpoints and TensorBoard summaries go"),
    "learning_rate": (0.0002, "Adam learning rate"),
    "lr_drop_step": (0, "learning rate / 10 from this step on (0: constant, as the paper)"),
    "beta1": (0.9, "Adam beta1"),
    "max_to_keep": (20, "checkpoints kept"),
    "max_steps": (300000, "training iterations"),
    "save_ckpt_freq": (5000, "save a checkpoint every this many steps"),
    "log_freq": (100, "log a line (step, losses, images/s, ETA) every this many steps"),
    "summary_freq": (100, "write TensorBoard summaries every this many steps"),
    "alpha_recon_image": (0.85, "weight of SSIM against L1 in the photometric loss"),
    "seed": (8964, "random seed (reference value)"),
    "dispnet_encoder": ("resnet50", "DispNet encoder: resnet50 or vgg"),
    "net_width": (1.0, "channel multiplier of all networks; 1.0 is the paper's (CPU demo: less)"),
    "pose_net_width": (0.0, "channel multiplier of PoseNet alone (0: --net_width)"),
    "bn_decay": (0.999, "batch-norm moving-average decay (slim default, as the reference)"),
    "scale_normalize": (False, "divide each disparity map by its mean"),
    "rigid_warp_weight": (1.0, "weight of the rigid-flow photometric loss"),
    "mask_out_of_view": (
        False,
        "leave pixels that the rigid flow moves out of the other image out of the rigid "
        "photometric loss (the paper counts them)",
    ),
    "disp_smooth_weight": (0.5, "weight of the disparity smoothness loss"),
    "flownet_type": ("residual", "ResFlowNet mode: residual or direct"),
    "flow_warp_weight": (1.0, "weight of the full-flow photometric loss"),
    "flow_smooth_weight": (0.2, "weight of the flow smoothness loss"),
    "flow_consistency_weight": (0.2, "weight of the forward-backward consistency loss"),
    "flow_consistency_alpha": (3.0, "consistency bound alpha (pixels)"),
    "flow_consistency_beta": (0.05, "consistency bound beta (fraction of flow magnitude)"),
    "output_dir": ("", "where test modes write predictions"),
    "depth_test_split": ("eigen", "test_depth: split name or a file of image paths"),
    "pose_test_seq": (9, "test_pose: KITTI odometry sequence"),
    "distributed": ("none", "none, horovod (CPU/GPU workers) or npu (npu_bridge + HCCL)"),
    "intra_op_threads": (0, "TensorFlow intra-op threads (0: one per core)"),
    "inter_op_threads": (0, "TensorFlow inter-op threads (0: automatic)"),
    "tune_conv_kernels": (
        True,
        "on CPU, time TensorFlow's two kernels for each convolution gradient before training "
        "and use the faster (posekit.tfkernels); false keeps TensorFlow's default",
    ),
}

MODES = ("train_rigid", "train_flow", "test_depth", "test_pose", "test_flow")
NUM_SCALES = 4


def define_flags(flags):
    """Register OPTIONS as absl flags."""
    for name, (default, help_text) in OPTIONS.items():
        if isinstance(default, bool):
            flags.DEFINE_boolean(name, default, help_text)
        elif isinstance(default, int):
            flags.DEFINE_integer(name, default, help_text)
        elif isinstance(default, float):
            flags.DEFINE_float(name, default, help_text)
        else:
            flags.DEFINE_string(name, default, help_text)


def make_config(**values):
    """Defaults overridden by `values`, validated, plus the derived fields."""
    unknown = set(values) - set(OPTIONS)
    if unknown:
        raise ValueError(f"unknown GeoNet options: {sorted(unknown)}")
    cfg = {name: default for name, (default, _) in OPTIONS.items()}
    cfg.update(values)
    if cfg["mode"] not in MODES:
        raise ValueError(f"--mode must be one of {MODES}, got {cfg['mode']!r}")
    if cfg["seq_length"] < 3 or cfg["seq_length"] % 2 == 0:
        raise ValueError(f"--seq_length must be odd and >= 3, got {cfg['seq_length']}")
    if cfg["img_height"] % 8 or cfg["img_width"] % 8:
        # the prediction scales 1/2, 1/4, 1/8 must match the image pyramid exactly
        raise ValueError(
            f"--img_height and --img_width must be multiples of 8, got "
            f"{cfg['img_height']}x{cfg['img_width']}"
        )
    if cfg["pose_net_width"] < 0:
        raise ValueError(f"--pose_net_width must be >= 0, got {cfg['pose_net_width']}")
    if cfg["dispnet_encoder"] not in ("resnet50", "vgg"):
        raise ValueError(
            f"--dispnet_encoder must be resnet50 or vgg, got {cfg['dispnet_encoder']!r}"
        )
    if cfg["flownet_type"] not in ("residual", "direct"):
        raise ValueError(f"--flownet_type must be residual or direct, got {cfg['flownet_type']!r}")
    if cfg["distributed"] not in ("none", "horovod", "npu"):
        raise ValueError(f"--distributed must be none, horovod or npu, got {cfg['distributed']!r}")
    mode = cfg["mode"]
    residual = cfg["flownet_type"] == "residual"
    add_flownet = mode in ("train_flow", "test_flow")
    cfg["num_source"] = cfg["seq_length"] - 1
    cfg["pose_width"] = cfg["pose_net_width"] or cfg["net_width"]
    cfg["num_scales"] = NUM_SCALES
    cfg["add_flownet"] = add_flownet
    cfg["add_dispnet"] = (add_flownet and residual) or mode in ("train_rigid", "test_depth")
    cfg["add_posenet"] = (add_flownet and residual) or mode in ("train_rigid", "test_pose")
    return types.MappingProxyType(cfg)


class Config:
    """Attribute access to a make_config() mapping (read-only)."""

    def __init__(self, mapping):
        object.__setattr__(self, "_m", mapping)

    def __getattr__(self, name):
        try:
            return self._m[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        raise AttributeError(f"GeoNet config is read-only (tried to set {name})")

    def replace(self, **values):
        base = {k: self._m[k] for k in OPTIONS}
        base.update(values)
        return Config(make_config(**base))


def config(**values):
    return Config(make_config(**values))
