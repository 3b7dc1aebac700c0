"""test_flow: full flow (ResFlowNet, residual on the rigid flow, or direct) from frame t to t+1
for every frame of a KITTI odometry sequence -> KITTI flow PNGs `<output_dir>/%06d_10.png`.

Inputs are seq_length frames centred on t (as in training); the flow towards the first source
after the target (frame t+1) is written, at the network's input size. Residual flow needs the
intrinsics, taken from the sequence's calib.txt (P2) and scaled to the input size.
"""

import os
import sys

import cv2
import numpy as np
import tensorflow as tf
from geonet_model import GeoNetModel
from geonet_test_pose import load_frame, stack_snippet
from tqdm import tqdm
from utils import multi_scale_intrinsics

from posekit import geometry, kitti, tfdevice

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "kitti_eval"))
from flow_io import write_flow_png  # noqa: E402


def test_flow(cfg):
    if not cfg.init_ckpt_file or not cfg.output_dir:
        raise ValueError("test_flow needs --init_ckpt_file and --output_dir")
    os.makedirs(cfg.output_dir, exist_ok=True)
    seq = cfg.pose_test_seq
    seq_dir = kitti.sequence_dir(cfg.dataset_dir, seq)
    n_frames = kitti.count_frames(cfg.dataset_dir, seq)
    K = kitti.intrinsics_from_calib(kitti.read_calib(os.path.join(seq_dir, "calib.txt")))
    first = cv2.imread(kitti.image_path(cfg.dataset_dir, seq, 0))
    if first is None:
        raise ValueError(f"{kitti.image_path(cfg.dataset_dir, seq, 0)}: not a readable image")
    K = geometry.resized_intrinsics(
        K, cfg.img_width / first.shape[1], cfg.img_height / first.shape[0]
    )
    half = (cfg.seq_length - 1) // 2
    targets = list(range(half, n_frames - half))
    bs = cfg.batch_size
    with tf.Graph().as_default():
        inputs = tf.compat.v1.placeholder(
            tf.uint8, [bs, cfg.img_height, cfg.img_width, 3 * cfg.seq_length], name="raw_input"
        )
        intrinsics = multi_scale_intrinsics(
            tf.constant(np.tile(K[None], (bs, 1, 1)), tf.float32), 4
        )
        model = GeoNetModel(cfg, inputs[..., :3], inputs[..., 3:], intrinsics)
        # sources are batched source-major: the first source after the target is index `half`
        flow = model.fwd_full_flow_pyramid[0][half * bs : (half + 1) * bs]
        saver = tf.compat.v1.train.Saver(tf.compat.v1.model_variables())
        with tf.compat.v1.Session(config=tfdevice.session_config()) as sess:
            saver.restore(sess, cfg.init_ckpt_file)
            for b in tqdm(range(0, len(targets), bs), desc=f"test_flow {seq:02d}"):
                batch = targets[b : b + bs]
                feed = np.zeros(inputs.get_shape().as_list(), np.uint8)
                for k, t in enumerate(batch):
                    frames = [
                        load_frame(
                            kitti.image_path(cfg.dataset_dir, seq, i), cfg.img_height, cfg.img_width
                        )
                        for i in range(t - half, t + half + 1)
                    ]
                    feed[k] = stack_snippet(frames)
                pred = sess.run(flow, {inputs: feed})
                for k, t in enumerate(batch):
                    write_flow_png(os.path.join(cfg.output_dir, f"{t:06d}_10.png"), pred[k])
    print(f"wrote {len(targets)} flow maps to {cfg.output_dir}")
