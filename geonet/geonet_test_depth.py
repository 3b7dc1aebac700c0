"""test_depth: DepthNet on a list of images -> one .npy of depths plus coloured depth PNGs.

--depth_test_split is a text file of image paths relative to --dataset_dir (one per line), or a
name NAME for data/kitti/test_files_NAME.txt (the reference's Eigen / stereo lists, taken from the
SfMLearner or monodepth repositories). The prediction file is `<output_dir>/<checkpoint name>.npy`
holding [N, img_height, img_width] depths in the network's (arbitrary) scale, as the reference.
"""

import os

import numpy as np
import tensorflow as tf
from geonet_model import GeoNetModel
from geonet_test_pose import load_frame
from tqdm import tqdm

from posekit import tfdevice

HERE = os.path.dirname(os.path.abspath(__file__))


def read_test_list(dataset_dir, split):
    path = (
        split
        if os.path.isfile(split)
        else os.path.join(HERE, "data", "kitti", f"test_files_{split}.txt")
    )
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"--depth_test_split={split!r}: neither a file nor {path}; give a file listing image "
            "paths relative to --dataset_dir (e.g. SfMLearner's data/kitti/test_files_eigen.txt)"
        )
    with open(path, encoding="utf-8") as f:
        rel = [line.split()[0] for line in f if line.strip()]
    images = [os.path.join(dataset_dir, r) for r in rel]
    for line_no, img in enumerate(images, 1):
        if not os.path.isfile(img):
            raise FileNotFoundError(f"{path}:{line_no}: image {img} does not exist")
    return rel, images


def colorize_depth(depth, max_percentile=95):
    """Depth map -> RGB uint8 (near bright, far dark; magma colour map on inverse depth)."""
    from matplotlib import cm

    disp = 1.0 / np.maximum(depth, 1e-6)
    vmax = np.percentile(disp, max_percentile)
    vmin = disp.min()
    norm = np.clip((disp - vmin) / max(vmax - vmin, 1e-9), 0, 1)
    return (cm.magma(norm)[..., :3] * 255).astype(np.uint8)


def depth_panel(frame, depth, min_width=416):
    """The frame above its coloured depth, enlarged (nearest) to at least min_width pixels."""
    panel = np.concatenate([frame, colorize_depth(depth)], axis=0)
    factor = max(1, -(-min_width // panel.shape[1]))
    return np.repeat(np.repeat(panel, factor, axis=0), factor, axis=1)


def build_depth_graph(cfg, batch_size=None):
    inputs = tf.compat.v1.placeholder(
        tf.uint8, [batch_size or cfg.batch_size, cfg.img_height, cfg.img_width, 3], name="raw_input"
    )
    model = GeoNetModel(cfg, inputs, None, None)
    return inputs, tf.identity(model.pred_depth[0][..., 0], name="depth")


def test_depth(cfg, num_png=10):
    if not cfg.init_ckpt_file or not cfg.output_dir:
        raise ValueError("test_depth needs --init_ckpt_file and --output_dir")
    from PIL import Image

    rel, images = read_test_list(cfg.dataset_dir, cfg.depth_test_split)
    os.makedirs(cfg.output_dir, exist_ok=True)
    preds = np.zeros((len(images), cfg.img_height, cfg.img_width), np.float32)
    with tf.Graph().as_default():
        inputs, depth = build_depth_graph(cfg)
        saver = tf.compat.v1.train.Saver(tf.compat.v1.model_variables())
        with tf.compat.v1.Session(config=tfdevice.session_config()) as sess:
            saver.restore(sess, cfg.init_ckpt_file)
            for b in tqdm(range(0, len(images), cfg.batch_size), desc="test_depth"):
                batch = images[b : b + cfg.batch_size]
                feed = np.zeros(inputs.get_shape().as_list(), np.uint8)
                for k, path in enumerate(batch):
                    feed[k] = load_frame(path, cfg.img_height, cfg.img_width)
                preds[b : b + len(batch)] = sess.run(depth, {inputs: feed})[: len(batch)]
    out_file = os.path.join(cfg.output_dir, os.path.basename(cfg.init_ckpt_file) + ".npy")
    np.save(out_file, preds)
    png_dir = os.path.join(cfg.output_dir, "depth_png")
    os.makedirs(png_dir, exist_ok=True)
    for i in range(min(num_png, len(images))):
        frame = load_frame(images[i], cfg.img_height, cfg.img_width)
        panel = depth_panel(frame, preds[i])
        name = rel[i].replace("/", "_").rsplit(".", 1)[0] + "_depth.png"
        Image.fromarray(panel).save(os.path.join(png_dir, name))
    n_png = min(num_png, len(images))
    print(f"wrote {len(images)} depth maps to {out_file} and {n_png} PNGs to {png_dir}")
    return out_file
