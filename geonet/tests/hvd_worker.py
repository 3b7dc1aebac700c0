"""One Horovod worker of tests/test_distributed.py: a few GeoNet training steps on this rank's
shard, then its weights and the digests of the batches it saw go to OUT_DIR/rank<r>.npz.

    horovodrun --gloo -np 2 -H localhost:2 python tests/hvd_worker.py PREPARED_DIR OUT_DIR
"""

import hashlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import distributed  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from geonet_config import config  # noqa: E402
from geonet_main import TrainingGraph  # noqa: E402

STEPS = 3


def main(prepared, out_dir):
    dist = distributed.make("horovod")
    cfg = config(
        mode="train_rigid", dataset_dir=prepared, distributed="horovod", img_height=32,
        img_width=96, seq_length=3, batch_size=2, dispnet_encoder="vgg", net_width=0.125,
        num_threads=1,
    )  # fmt: skip
    with tf.Graph().as_default():
        # a different initialisation per rank: only the broadcast can make them agree
        tf.compat.v1.set_random_seed(100 + dist.rank)
        g = TrainingGraph(cfg, dist)
        weights = tf.compat.v1.trainable_variables()
        with tf.compat.v1.Session() as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            before = sess.run(weights[0])
            sess.run(g.broadcast)
            digests = []
            for _ in range(STEPS):
                _, tgt = sess.run([g.train_op, g.model.tgt_image])
                digests.append(hashlib.sha1(tgt.tobytes()).hexdigest())
            values = sess.run(weights)
    np.savez(
        os.path.join(out_dir, f"rank{dist.rank}.npz"),
        before=before, digests=np.array(digests), size=dist.size,
        **{f"w{i}": v for i, v in enumerate(values)},
    )  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
