"""test_pose: PoseNet on every snippet of a KITTI odometry sequence -> TUM snippet files.

For each target frame t with (seq_length-1)/2 neighbours on both sides, writes
`<output_dir>/%06d.txt` named by the snippet's first frame, holding the seq_length poses relative to
that first frame (the format kitti_eval/eval_pose.py and the reference tools read).
"""

import os

import cv2
import numpy as np
import tensorflow as tf
from geonet_model import GeoNetModel
from tqdm import tqdm

from posekit import kitti, tfdevice, trajectory


def load_frame(path, height, width):
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"{path}: not a readable image")
    img = cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def stack_snippet(frames):
    """Frames in time order -> [H, W, 3 * L] with the centre (target) first, then the others."""
    half = len(frames) // 2
    return np.concatenate([frames[half]] + frames[:half] + frames[half + 1 :], axis=2)


def build_pose_graph(cfg, batch_size=None):
    inputs = tf.compat.v1.placeholder(
        tf.uint8, [batch_size or cfg.batch_size, cfg.img_height, cfg.img_width, 3 * cfg.seq_length],
        name="raw_input",
    )  # fmt: skip
    model = GeoNetModel(cfg, inputs[..., :3], inputs[..., 3:], None)
    return inputs, tf.identity(model.pred_poses, name="pose")


def test_pose(cfg):
    if not cfg.init_ckpt_file or not cfg.output_dir:
        raise ValueError("test_pose needs --init_ckpt_file and --output_dir")
    os.makedirs(cfg.output_dir, exist_ok=True)
    seq = cfg.pose_test_seq
    n_frames = kitti.count_frames(cfg.dataset_dir, seq)
    times = kitti.read_times(os.path.join(kitti.sequence_dir(cfg.dataset_dir, seq), "times.txt"))
    if len(times) != n_frames:
        raise ValueError(f"sequence {seq:02d}: {n_frames} images but {len(times)} timestamps")
    half = (cfg.seq_length - 1) // 2
    targets = list(range(half, n_frames - half))
    with tf.Graph().as_default():
        inputs, pose = build_pose_graph(cfg)
        saver = tf.compat.v1.train.Saver(tf.compat.v1.model_variables())
        with tf.compat.v1.Session(config=tfdevice.session_config()) as sess:
            saver.restore(sess, cfg.init_ckpt_file)
            cache = {}

            def frame(i):
                if i not in cache:
                    path = kitti.image_path(cfg.dataset_dir, seq, i)
                    cache[i] = load_frame(path, cfg.img_height, cfg.img_width)
                return cache[i]

            for b in tqdm(range(0, len(targets), cfg.batch_size), desc=f"test_pose {seq:02d}"):
                batch = targets[b : b + cfg.batch_size]
                feed = np.zeros(inputs.get_shape().as_list(), np.uint8)
                for k, t in enumerate(batch):
                    feed[k] = stack_snippet([frame(i) for i in range(t - half, t + half + 1)])
                pred = sess.run(pose, {inputs: feed})
                for k, t in enumerate(batch):
                    snippet = trajectory.snippet_from_pose_vectors(pred[k])
                    out = os.path.join(cfg.output_dir, f"{t - half:06d}.txt")
                    trajectory.write_tum(out, times[t - half : t + half + 1], snippet)
                for i in [i for i in cache if i < batch[-1] - half]:
                    del cache[i]
    print(f"wrote {len(targets)} snippets to {cfg.output_dir}")
