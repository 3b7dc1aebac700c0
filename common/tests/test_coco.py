import json
import math

import numpy as np
import pytest
from PIL import Image

from posekit import coco
from posekit.synth import coco as synth


def person(image_id, kpts, bbox, area=1000.0, **extra):
    labelled = sum(1 for v in kpts[2::3] if v > 0)
    ann = {
        "image_id": image_id,
        "category_id": 1,
        "iscrowd": 0,
        "keypoints": kpts,
        "bbox": bbox,
        "area": area,
        "num_keypoints": labelled,
    }
    ann.update(extra)
    return ann


def write_json(path, data):
    path.write_text(json.dumps(data))
    return str(path)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth_coco")
    return synth.generate(str(out), train=3, val=12, seed=5)


def test_reader_skips_crowd_and_unlabelled_and_clamps_boxes(tmp_path):
    kp = [10, 20, 2] + [0, 0, 0] * 16
    data = {
        "images": [{"id": 7, "file_name": "a.jpg", "width": 100, "height": 80}],
        "annotations": [
            person(7, kp, [-5, 10, 50, 200], id=1),  # clamped to x 0..44, y 10..79
            person(7, kp, [0, 0, 10, 10], iscrowd=1, id=2),
            person(7, [0] * 51, [0, 0, 10, 10], id=3),
            person(7, kp, [150, 10, 20, 20], id=4),  # entirely right of the image
        ],
    }
    images, people = coco.read_person_keypoints(write_json(tmp_path / "k.json", data))
    assert images == {7: {"file_name": "a.jpg", "width": 100, "height": 80}}
    assert [p["id"] for p in people] == [1]
    np.testing.assert_allclose(people[0]["bbox"], [0, 10, 44, 69])
    assert people[0]["keypoints"].shape == (17, 3)


@pytest.mark.parametrize(
    "ann, message",
    [
        (
            {"image_id": 7, "keypoints": [1, 2, 2], "bbox": [0, 0, 1, 1], "area": 1},
            "annotations[0].keypoints: expected a list of 51",
        ),
        (
            {"image_id": 9, "keypoints": [1] * 51, "bbox": [0, 0, 1, 1], "area": 1},
            "annotations[0]: image_id 9 is not in 'images'",
        ),
        ({"image_id": 7, "keypoints": [1] * 51, "area": 1}, "annotations[0]: missing field 'bbox'"),
    ],
)
def test_reader_errors_name_file_and_field(tmp_path, ann, message):
    data = {
        "images": [{"id": 7, "file_name": "a.jpg", "width": 10, "height": 10}],
        "annotations": [ann],
    }
    path = write_json(tmp_path / "bad.json", data)
    with pytest.raises(coco.CocoFormatError) as err:
        coco.read_person_keypoints(path)
    assert path in str(err.value) and message in str(err.value)


def test_reads_the_real_val2017_subset_layout(synthetic):
    # the synthetic writer and the reader agree with the official field layout
    raw = json.load(open(synthetic["val"]))
    assert raw["categories"][0]["keypoints"] == coco.KEYPOINT_NAMES
    images, people = coco.read_person_keypoints(synthetic["val"])
    labelled = [a for a in raw["annotations"] if a["num_keypoints"] > 0]
    assert len(people) == len(labelled) > 0
    for ann in raw["annotations"]:
        assert ann["num_keypoints"] == sum(1 for v in ann["keypoints"][2::3] if v > 0)


def test_read_detections_filters_category_and_score(tmp_path):
    dets = [
        {"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.9},
        {"image_id": 1, "category_id": 2, "bbox": [1, 2, 3, 4], "score": 0.9},
        {"image_id": 2, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.05},
    ]
    out = coco.read_detections(write_json(tmp_path / "d.json", dets), min_score=0.1)
    assert len(out) == 1 and out[0]["image_id"] == 1 and out[0]["score"] == 0.9
    np.testing.assert_allclose(out[0]["bbox"], [1, 2, 3, 4])
    bad = write_json(tmp_path / "bad.json", [{"image_id": 1, "category_id": 1, "bbox": [1, 2]}])
    with pytest.raises(coco.CocoFormatError, match=r"\[0\]: missing field 'score'"):
        coco.read_detections(bad)


def test_write_results_round_trip(tmp_path):
    kpts = np.arange(51, dtype=float).reshape(17, 3) + 0.25
    path = str(tmp_path / "res.json")
    coco.write_results(path, [{"image_id": 3, "keypoints": kpts, "score": np.float32(0.5)}])
    rows = json.load(open(path))
    assert rows == [
        {"image_id": 3, "category_id": 1, "keypoints": kpts.ravel().tolist(), "score": 0.5}
    ]


def test_oks_hand_worked_and_matches_cocoeval():
    # area 1000; joint 5 (sigma .079) off by (3, 4): e = 25 / (2 * 1000 * 0.158^2) = 0.500721
    # joint 11 exact: e = 0; the other joints are unlabelled and ignored, however far off
    gt = np.zeros((17, 3))
    gt[5] = [50, 60, 2]
    gt[11] = [55, 100, 1]
    det = np.full((17, 3), 500.0)
    det[5] = [53, 64, 1]
    det[11] = [55, 100, 1]
    expected = (math.exp(-0.500721) + 1.0) / 2  # 0.803047
    assert coco.oks(gt, 1000.0, det[None])[0] == pytest.approx(expected, abs=1e-5)
    assert expected == pytest.approx(0.803047, abs=1e-6)

    from pycocotools.cocoeval import COCOeval

    ev = COCOeval(iouType="keypoints")
    ev._gts[1, 1] = [{"keypoints": gt.ravel().tolist(), "area": 1000.0, "bbox": [0, 0, 1, 1]}]
    ev._dts[1, 1] = [{"keypoints": det.ravel().tolist(), "score": 1.0}]
    assert ev.computeOks(1, 1)[0, 0] == pytest.approx(coco.oks(gt, 1000.0, det[None])[0], abs=1e-12)


def test_oks_nms_hand_worked():
    # B: joints 5 and 11 confident, 5 off by (3, 4), 11 exact, the rest unconfident and far;
    # with vis_thresh 0.2 and mean area 1000: OKS(A, B) = 0.803047 (as above)
    a = np.zeros((17, 3))
    a[:, 0], a[:, 1], a[:, 2] = np.arange(17) * 10, 100, 1.0
    b = a.copy()
    b[:, :2] += 100
    b[:, 2] = 0.1
    b[5] = [a[5, 0] + 3, a[5, 1] + 4, 0.9]
    b[11] = [a[11, 0], a[11, 1], 0.9]
    c = a.copy()
    c[:, 0] += 400  # far away: OKS ~ 0
    kpts, scores, areas = np.stack([c, b, a]), np.array([0.7, 0.8, 0.9]), np.full(3, 1000.0)
    ovr = coco.oks_between(a, 1000.0, np.stack([b, c]), areas[:2], vis_thresh=0.2)
    np.testing.assert_allclose(ovr, [0.803047, 0.0], atol=1e-5)
    assert coco.oks_nms(kpts, scores, areas, 0.80, vis_thresh=0.2) == [2, 0]
    assert coco.oks_nms(kpts, scores, areas, 0.81, vis_thresh=0.2) == [2, 1, 0]
    # without the confidence mask B's far-off joints drag OKS down: all kept at 0.8
    assert coco.oks_nms(kpts, scores, areas, 0.8) == [2, 1, 0]


def test_rescore_hand_worked():
    maxvals = np.array([[0.9, 0.5, 0.1], [0.1, 0.15, 0.05]])
    np.testing.assert_allclose(coco.rescore(maxvals, [0.8, 1.0]), [0.7 * 0.8, 0.0])


def test_topdown_results_nms_per_image():
    coords = np.tile(np.arange(34, dtype=float).reshape(1, 17, 2) * 5, (3, 1, 1))
    coords[1] += 0.5  # near-duplicate of box 0 in the same image
    maxvals = np.full((3, 17), 0.9)
    scales = np.ones((3, 2))
    res = coco.topdown_results([1, 1, 2], coords, maxvals, scales, [0.9, 0.8, 0.7])
    assert [r["image_id"] for r in res] == [1, 2]
    assert res[0]["score"] == pytest.approx(0.81)
    assert res[0]["keypoints"].shape == (17, 3)


def perfect_results(people):
    return [
        {
            "image_id": p["image_id"],
            "keypoints": np.c_[p["keypoints"][:, :2], np.ones(17)],
            "score": 1.0,
        }
        for p in people
    ]


def test_perfect_predictions_give_ap_one(synthetic):
    _, people = coco.read_person_keypoints(synthetic["val"])
    stats = coco.evaluate(synthetic["val"], perfect_results(people), use_gt_bbox=True)
    assert stats["AP"] == pytest.approx(1.0) and stats["AR"] == pytest.approx(1.0)
    assert stats["boxes"] == "ground truth" and "Average Precision" in stats["summary"]


def test_perturbed_predictions_give_independently_computed_ap(synthetic, tmp_path):
    # One prediction per person, shifted by a known fraction of sqrt(area) and scored by its
    # OKS, so at each threshold t the n_t people with OKS >= t rank first: precision is 1 up
    # to recall n_t / N and COCO's 101-point AP_t = (floor(100 n_t / N) + 1) / 101.
    raw = json.load(open(synthetic["val"]))
    gts = [a for a in raw["annotations"] if a["num_keypoints"] > 0]
    fractions = [0.0, 0.02, 0.05, 0.08, 0.12, 0.2, 0.4]
    results, oks_values = [], []
    for i, ann in enumerate(gts):
        gt = np.array(ann["keypoints"], float).reshape(17, 3)
        det = gt.copy()
        det[:, 0] += fractions[i % len(fractions)] * math.sqrt(ann["area"])
        det[:, 2] = 1.0
        value = coco.oks(gt, ann["area"], det[None])[0]
        oks_values.append(value)
        # each prediction is far from every other person of its image (no cross matches)
        for other in gts:
            if other is not ann and other["image_id"] == ann["image_id"]:
                ogt = np.array(other["keypoints"], float).reshape(17, 3)
                assert coco.oks(ogt, other["area"], det[None])[0] < 0.5
        results.append({"image_id": ann["image_id"], "keypoints": det, "score": value})
    oks_values = np.array(oks_values)
    n = len(gts)
    expected = np.mean(
        [
            (math.floor(100 * np.sum(oks_values >= t) / n + 1e-9) + 1) / 101
            for t in np.linspace(0.5, 0.95, 10)
        ]
    )
    path = str(tmp_path / "perturbed.json")
    coco.write_results(path, results)
    stats = coco.evaluate(synthetic["val"], path, use_gt_bbox=False)
    assert 0.2 < expected < 0.95
    assert stats["AP"] == pytest.approx(expected, abs=2e-3)
    assert stats["boxes"] == "detections"


def test_evaluate_rejects_empty_results(synthetic):
    with pytest.raises(ValueError, match="empty"):
        coco.evaluate(synthetic["val"], [], use_gt_bbox=True)


def test_synthetic_annotations_are_consistent(synthetic):
    raw = json.load(open(synthetic["val"]))
    sizes = {img["id"]: (img["width"], img["height"]) for img in raw["images"]}
    for img in raw["images"][:3]:
        path = synthetic["val"].replace(
            "annotations/person_keypoints_val2017.json", "val2017/" + img["file_name"]
        )
        with Image.open(path) as im:
            assert im.size == (img["width"], img["height"]) and im.mode == "RGB"
    for ann in raw["annotations"]:
        w, h = sizes[ann["image_id"]]
        counts = ann["segmentation"]["counts"]
        assert sum(counts) == w * h
        assert sum(counts[1::2]) == ann["area"]  # RLE runs alternate 0s and 1s
        x, y, bw, bh = ann["bbox"]
        assert 0 <= x and x + bw <= w and 0 <= y and y + bh <= h
        k = np.array(ann["keypoints"], float).reshape(17, 3)
        assert np.all(k[k[:, 2] == 0, :2] == 0)
        assert np.all((k[k[:, 2] > 0, 0] <= w - 1) & (k[k[:, 2] > 0, 1] <= h - 1))
    dets = coco.read_detections(synthetic["detections"])
    assert {d["image_id"] for d in dets} <= set(sizes)
    assert len(dets) >= 0.9 * sum(1 for a in raw["annotations"] if a["num_keypoints"] > 0)


def test_rle_counts_hand_worked():
    mask = np.array([[0, 1], [1, 1], [0, 0]], bool)  # column-major: 0 1 0 | 1 1 0
    assert synth.rle_counts(mask) == [1, 1, 1, 2, 1]
    assert synth.rle_counts(np.ones((2, 2), bool)) == [0, 4]


def test_cli_module_interface(tmp_path):
    import argparse

    parser = argparse.ArgumentParser()
    synth.add_arguments(parser)
    args = parser.parse_args(["--out", str(tmp_path), "--train", "1", "--val", "1"])
    synth.run(args)
    assert (tmp_path / "annotations" / "person_keypoints_train2017.json").exists()
    assert (tmp_path / "person_detection_results" / synth.DETECTIONS_NAME).exists()
    with pytest.raises(ValueError, match="at least 1"):
        synth.run(parser.parse_args(["--out", str(tmp_path), "--val", "0"]))
