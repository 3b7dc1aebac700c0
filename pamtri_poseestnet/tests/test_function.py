"""Inference: the flip test with the heatmap shift, every image evaluated once, both PCKs,
and the pictures and segments written for MultiTaskNet."""

import numpy as np
import pytest
from src.dataset.dataset import create_dataset
from src.dataset.veri import make_codec
from src.utils.function import evaluate, predict_heatmaps, run_inference
from src.utils.vis import draw_prediction, gallery, is_convex, segment_masks

from posekit import topdown, veri


class PerfectNet:
    """A stand-in network that returns the exact target heatmaps of the image it is given.

    It knows the ground truth of the batch in order, and recognises the mirrored copy the flip
    test sends right after the original, answering with the mirrored image's targets.
    """

    def __init__(self, cfg, records):
        self.codec = make_codec(cfg)
        self.records = records
        self.next = 0
        self.last = None

    def _targets(self, indices, mirrored):
        maps = []
        for i in indices:
            rec = self.records[i]
            joints, vis = rec["joints"], np.ones(36)
            m = topdown.affine_matrix(rec["center"], rec["scale"], 0.0, self.codec.input_size)
            joints = topdown.apply_affine(joints, m)
            if mirrored:
                joints, vis = topdown.flip_joints(
                    joints, vis, self.codec.input_size[0], veri.FLIP_PAIRS
                )
            maps.append(self.codec.encode(joints, vis)[0])
        return np.stack(maps)

    def __call__(self, images):
        n = len(images)
        if self.last is not None and np.array_equal(images, self.last[..., ::-1]):
            return self._targets(range(self.next - n, self.next), mirrored=True)
        self.last = images
        self.next += n
        return self._targets(range(self.next - n, self.next), mirrored=False)


def _inner(labels, margin=3):
    """Labels whose joints stay clear of the image border (the decoder stops at the edges)."""
    joints = labels.joints.copy()
    joints[..., 0] = np.clip(joints[..., 0], margin, labels.sizes[:, None, 0] - 1 - margin)
    joints[..., 1] = np.clip(joints[..., 1], margin, labels.sizes[:, None, 1] - 1 - margin)
    return joints


def test_flip_test_and_decoding_recover_the_joints(tiny_veri, tiny_cfg):
    root, _ = tiny_veri
    errors = {}
    for shift in (True, False):
        dataset, test, records = create_dataset(tiny_cfg, root, train=False, batch_size=2)
        joints = _inner(test)
        for rec, j in zip(records, joints):
            rec["joints"] = j.astype(float)
        cfg = type(tiny_cfg)(tiny_cfg, TEST=type(tiny_cfg)(tiny_cfg.TEST, SHIFT_HEATMAP=shift))
        preds, maxvals, heatmaps = run_inference(
            PerfectNet(cfg, records), dataset, records, make_codec(cfg), cfg, keep_heatmaps=True
        )
        assert preds.shape == (5, 36, 2) and heatmaps.shape == (5, 36, 16, 16)
        assert np.all(maxvals > 0.5)
        stride = np.array([r["scale"][0] * 200 / 16 for r in records])  # image px per map px
        errors[shift] = np.abs(preds - joints).max(axis=2) / stride[:, None]
    # mirroring moves a heatmap peak by 1 - 1/stride = 0.75 px; the one-pixel shift leaves
    # 0.25, so the averaged peak is off by 1/8 px with the shift and 3/8 px without (plus the
    # decoder's quarter-pixel step)
    assert errors[True].max() <= 0.25 + 0.125 + 1e-6
    assert errors[False].max() <= 0.25 + 0.375 + 1e-6
    assert errors[True].mean() < errors[False].mean()


def test_flip_test_averages_with_the_flipped_back_maps():
    maps = np.random.default_rng(0).random((2, 36, 8, 8)).astype(np.float32)

    def forward(x):
        return maps if x[0, 0, 0, 0] == 0 else maps[..., ::-1]

    images = np.zeros((2, 3, 32, 32), np.float32)
    images[..., -1] = 1.0  # the mirrored copy starts with 1
    out = predict_heatmaps(forward, images, flip_test=True, shift_heatmap=True)
    back = topdown.flip_heatmaps(maps[..., ::-1], veri.FLIP_PAIRS, shift=True)
    assert np.allclose(out, 0.5 * (maps + back))
    assert np.array_equal(predict_heatmaps(forward, images, flip_test=False), maps)


def test_every_image_must_be_evaluated_once(tiny_veri, tiny_cfg):
    root, _ = tiny_veri
    dataset, _, records = create_dataset(tiny_cfg, root, train=False, batch_size=2)
    with pytest.raises(RuntimeError, match="not evaluated exactly once"):
        run_inference(
            lambda x: np.zeros((len(x), 36, 16, 16), np.float32), dataset, records + records[:1],
            make_codec(tiny_cfg), tiny_cfg,
        )  # fmt: skip


def test_evaluate_reports_both_protocols(tiny_veri):
    _, labels = tiny_veri
    test = labels["test"]
    ref, honest = evaluate(test.joints.astype(float), np.ones((5, 36)), test)
    assert ref.protocol == "reference" and honest.protocol == "honest"
    assert honest.mean == pytest.approx(100.0) and ref.mean == pytest.approx(100.0)


def test_segments_and_convexity():
    assert is_convex([(0, 0), (10, 0), (10, 10), (0, 10)])
    assert not is_convex([(0, 0), (10, 0), (2, 2), (0, 10)])  # dented
    assert not is_convex([(0, 0), (5, 0), (10, 0), (0, 10)])  # a zero turn
    points = np.zeros((36, 2))
    quad = veri.SEGMENTS[0]
    points[list(quad)] = [(10, 10), (90, 10), (90, 60), (10, 60)]
    masks = segment_masks(points, 100, 80)
    assert masks.shape == (13, 64, 64)
    assert masks[0].mean() > 100 and masks[1:].max() == 0  # only the convex quad is filled


def test_pictures(tiny_veri):
    _, labels = tiny_veri
    test = labels["test"]
    image = np.zeros((int(test.sizes[0][1]), int(test.sizes[0][0]), 3), np.uint8)
    tile = draw_prediction(
        image, test.joints[0], np.ones(36), test.joints[0], test.visible[0], scale=2
    )
    assert tile.size == (image.shape[1] * 2, image.shape[0] * 2)
    assert np.asarray(tile).max() > 0
    sheet = gallery([tile] * 5, columns=4, tile=(100, 80))
    assert sheet.size == (400, 160)
