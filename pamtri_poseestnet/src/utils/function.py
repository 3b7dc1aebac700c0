"""Inference over a data set (with the flip test) and PCK evaluation under both protocols."""

from __future__ import annotations

import numpy as np
from mindspore import Tensor
from tqdm import tqdm

from posekit import pck, topdown, veri


def mindspore_forward(net):
    """A NumPy -> NumPy forward pass of a MindSpore network in inference mode."""
    net.set_train(False)
    return lambda images: net(Tensor(images)).asnumpy()


def predict_heatmaps(forward, images, flip_test=True, shift_heatmap=True):
    """(B, 3, H, W) float32 -> (B, 36, h, w) heatmaps, averaged with the mirrored input's.

    `forward` maps a NumPy batch to NumPy heatmaps (a MindSpore network, an ONNX session).
    The mirrored input's maps are flipped back with the pairs (i, i + 18) and, with
    `shift_heatmap`, moved one pixel right to undo the half-stride misalignment of mirroring.
    """
    images = np.asarray(images, dtype=np.float32)
    out = forward(images)
    if flip_test:
        mirrored = forward(np.ascontiguousarray(images[..., ::-1]))
        out = 0.5 * (out + topdown.flip_heatmaps(mirrored, veri.FLIP_PAIRS, shift=shift_heatmap))
    return out


def run_inference(forward, dataset, records, codec, cfg, keep_heatmaps=False, desc="inference"):
    """Predicts every record of an evaluation dataset (batches of (image, index)).

    -> preds (N, 36, 2) in image pixels, maxvals (N, 36), heatmaps (N, 36, h, w) or None.
    Raises if any record was missed or seen twice, so no image is silently left out.
    """
    n = len(records)
    preds = np.zeros((n, veri.NUM_JOINTS, 2))
    maxvals = np.zeros((n, veri.NUM_JOINTS))
    heatmaps = None
    seen = np.zeros(n, dtype=np.int64)
    with tqdm(total=n, desc=desc, unit="img") as bar:
        for images, index in dataset.create_tuple_iterator(output_numpy=True):
            maps = predict_heatmaps(forward, images, cfg.TEST.FLIP_TEST, cfg.TEST.SHIFT_HEATMAP)
            index = np.asarray(index, dtype=np.int64)
            centers = np.stack([records[i]["center"] for i in index])
            scales = np.stack([records[i]["scale"] for i in index])
            coords, peaks = codec.decode(maps, centers, scales)
            preds[index], maxvals[index] = coords, peaks
            if keep_heatmaps:
                if heatmaps is None:
                    heatmaps = np.zeros((n,) + maps.shape[1:], np.float32)
                heatmaps[index] = maps
            seen[index] += 1
            bar.update(len(index))
    if not (seen == 1).all():
        missing = np.flatnonzero(seen != 1)
        raise RuntimeError(f"{len(missing)} images were not evaluated exactly once: {missing[:5]}")
    return preds, maxvals, heatmaps


def evaluate(preds, maxvals, labels):
    """-> (reference PCKResult, honest PCKResult) against the label file's joints."""
    ref = pck.pck_reference(preds, labels.joints, labels.visible, scores=maxvals)
    honest = pck.pck_honest(preds, labels.joints, labels.visible)
    return ref, honest
