import json
import os

import numpy as np
import pytest

from posekit import bop


def write(path, content):
    with open(path, "w") as f:
        f.write(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def sample_results():
    rng = np.random.default_rng(0)
    out = []
    for i in range(5):
        q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        out.append(
            {
                "scene_id": 1 + i // 3,
                "im_id": i,
                "obj_id": 7,
                "score": float(rng.uniform()),
                "R": q * np.sign(np.linalg.det(q)),
                "t": rng.normal(size=3) * 100 + [0, 0, 700],
                "time": 0.25 * (1 + i),
            }
        )
    return out


def test_results_csv_round_trip_is_exact(tmp_path):
    path = tmp_path / bop.results_filename("pix2pose-demo", "synth", "test")
    assert path.name == "pix2pose-demo_synth-test.csv"
    results = sample_results()
    bop.write_results(str(path), results)
    assert path.read_text().splitlines()[0] == "scene_id,im_id,obj_id,score,R,t,time"
    back = bop.read_results(str(path))
    assert len(back) == len(results)
    for a, b in zip(results, back):
        assert (a["scene_id"], a["im_id"], a["obj_id"]) == (b["scene_id"], b["im_id"], b["obj_id"])
        assert a["score"] == b["score"] and a["time"] == b["time"]
        np.testing.assert_array_equal(a["R"], b["R"])
        np.testing.assert_array_equal(a["t"], b["t"])


def test_results_file_name_rule():
    assert bop.results_filename("hodan-iros15", "tless", "test", "primesense") == (
        "hodan-iros15_tless-test-primesense.csv"
    )
    with pytest.raises(ValueError, match="no '_'"):
        bop.results_filename("my_method", "tless", "test")
    info = bop.parse_results_filename("/x/cnos-fastsammegapose_tless-test_94e0.csv")
    assert info == {
        "method": "cnos-fastsammegapose",
        "dataset": "tless",
        "split": "test",
        "split_type": None,
    }
    with pytest.raises(ValueError, match="METHOD_DATASET"):
        bop.parse_results_filename("results.csv")
    with pytest.raises(ValueError, match="DATASET-SPLIT"):
        bop.write_results("/tmp/method_nosplit.csv", [])


def test_results_reader_names_file_line_and_field(tmp_path):
    path = write(
        tmp_path / "m_ds-test.csv",
        "scene_id,im_id,obj_id,score,R,t,time\n1,2,3,0.5,1 0 0,0 0 1,1\n",
    )
    with pytest.raises(bop.BopFormatError, match=r"m_ds-test.csv: line 2: field 'R': 9 numbers"):
        bop.read_results(path)
    path = write(tmp_path / "m_ds-test.csv", "scene_id,im_id,obj_id,R,t,time\n")
    with pytest.raises(bop.BopFormatError, match="line 1: expected header"):
        bop.read_results(path)


def test_time_per_image_requires_one_time_per_image():
    results = sample_results()
    assert bop.time_per_image(results) == pytest.approx(np.mean([0.25, 0.5, 0.75, 1.0, 1.25]))
    results[1]["im_id"] = 0
    with pytest.raises(ValueError, match="scene 1 image 0"):
        bop.time_per_image(results)
    results[1]["time"] = -1
    assert bop.time_per_image(results) == -1.0


def test_models_info_reads_symmetries_and_names_bad_keys(tmp_path):
    good = {
        "5": {
            "diameter": 108.69,
            "min_x": -47.5,
            "min_y": -26.75,
            "min_z": -29.5,
            "size_x": 95,
            "size_y": 53.5,
            "size_z": 59,
            "symmetries_discrete": [[-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]],
        },
        "1": {
            "diameter": 63.5,
            "min_x": -17,
            "min_y": -17,
            "min_z": -30,
            "size_x": 34,
            "size_y": 34,
            "size_z": 61,
            "symmetries_continuous": [{"axis": [0, 0, 1], "offset": [0, 0, 0]}],
        },
    }
    info = bop.load_models_info(write(tmp_path / "models_info.json", good))
    assert set(info) == {1, 5}
    np.testing.assert_array_equal(info[5]["symmetries_discrete"][0][:3, :3], np.diag([-1, -1, 1]))
    np.testing.assert_array_equal(info[1]["symmetries_continuous"][0]["axis"], [0, 0, 1])
    assert bop.is_symmetric(info[1]) and bop.is_symmetric(info[5])
    # save -> load keeps everything
    bop.save_models_info(str(tmp_path / "again.json"), info)
    again = bop.load_models_info(str(tmp_path / "again.json"))
    assert again[5]["diameter"] == 108.69
    del good["1"]["diameter"]
    with pytest.raises(
        bop.BopFormatError, match=r"models_info.json: object 1: key 'diameter': missing"
    ):
        bop.load_models_info(write(tmp_path / "models_info.json", good))
    good["1"]["diameter"] = 60
    good["5"]["symmetries_discrete"] = [[1, 0, 0]]
    with pytest.raises(bop.BopFormatError, match=r"object 5: key 'symmetries_discrete'\[0\]"):
        bop.load_models_info(write(tmp_path / "models_info.json", good))


def test_scene_files_and_targets(tmp_path):
    R = np.eye(3).reshape(-1).tolist()
    gt = {"3": [{"obj_id": 2, "cam_R_m2c": R, "cam_t_m2c": [1, 2, 700]}]}
    info = {
        "3": [
            {
                "bbox_obj": [1, 2, 30, 40],
                "bbox_visib": [1, 2, 30, 20],
                "px_count_all": 900,
                "px_count_valid": 900,
                "px_count_visib": 450,
                "visib_fract": 0.5,
            }
        ]
    }
    cam = {"3": {"cam_K": [500, 0, 320, 0, 500, 240, 0, 0, 1], "depth_scale": 0.1}}
    g = bop.load_scene_gt(write(tmp_path / "scene_gt.json", gt))
    np.testing.assert_array_equal(g[3][0]["t"], [1, 2, 700])
    assert (
        bop.load_scene_gt_info(write(tmp_path / "scene_gt_info.json", info))[3][0]["visib_fract"]
        == 0.5
    )
    c = bop.load_scene_camera(write(tmp_path / "scene_camera.json", cam))
    assert c[3]["cam_K"][0, 2] == 320 and c[3]["depth_scale"] == 0.1
    gt["3"][0]["cam_R_m2c"] = R[:8]
    with pytest.raises(bop.BopFormatError, match=r"scene_gt.json: image 3\[0\]: key 'cam_R_m2c'"):
        bop.load_scene_gt(write(tmp_path / "scene_gt.json", gt))
    with pytest.raises(bop.BopFormatError, match=r"scene_gt.json: key 'x'"):
        bop.load_scene_gt(write(tmp_path / "scene_gt.json", {"x": []}))
    targets = [{"im_id": 3, "inst_count": 1, "obj_id": 2, "scene_id": 1}]
    assert bop.load_test_targets(write(tmp_path / "t.json", targets)) == targets
    with pytest.raises(bop.BopFormatError, match=r"t.json: target 0: key 'inst_count'"):
        bop.load_test_targets(
            write(tmp_path / "t.json", [{"im_id": 3, "obj_id": 2, "scene_id": 1}])
        )
    with pytest.raises(bop.BopFormatError, match="not valid JSON"):
        bop.load_scene_gt(write(tmp_path / "scene_gt.json", "{"))


def test_camera_json_and_depth_round_trip(tmp_path):
    cam = {
        "cx": 325.26,
        "cy": 242.05,
        "depth_scale": 0.1,
        "fx": 572.4,
        "fy": 573.6,
        "height": 480,
        "width": 640,
    }
    c = bop.load_camera(write(tmp_path / "camera.json", cam))
    assert c["width"] == 640 and c["K"][1, 1] == 573.6 and c["depth_scale"] == 0.1
    depth = np.zeros((4, 5), np.float32)
    depth[1:3, 1:4] = [[700.1, 700.2, 700.3], [801.0, 802.5, 803.9]]
    path = os.path.join(str(tmp_path), "scene", "depth", "000003.png")
    bop.save_depth(path, depth, depth_scale=0.1)
    assert bop.image_path(str(tmp_path / "scene"), "depth", 3) == path
    np.testing.assert_allclose(bop.load_depth(path, 0.1), depth, atol=0.05)
    assert bop.image_path("s", "mask_visib", 3, 1) == os.path.join(
        "s", "mask_visib", "000003_000001.png"
    )
    with pytest.raises(FileNotFoundError, match="000009.png"):
        bop.load_depth(bop.image_path(str(tmp_path / "scene"), "depth", 9))


def test_synthetic_bop_set_is_consistent(tmp_path):
    """posekit synth bop: real layout, readable by the readers, masks and depth agree with the
    ground-truth poses, symmetries as promised."""
    from posekit import bop_metrics
    from posekit.synth import bop as synth

    out = str(tmp_path / "ds")
    counts = synth.generate(out, train_per_obj=2, test_scenes=1, test_per_scene=2, seed=3)
    assert counts["train_images"] == 6 and counts["test_images"] == 2
    info = bop.load_models_info(os.path.join(out, "models", "models_info.json"))
    assert not bop.is_symmetric(info[1])
    assert len(info[2]["symmetries_discrete"]) == 1 and not info[2]["symmetries_continuous"]
    assert len(info[3]["symmetries_continuous"]) == 1
    cam = bop.load_camera(os.path.join(out, "camera.json"))
    targets = bop.load_test_targets(os.path.join(out, "test_targets_bop19.json"))
    assert len(targets) == counts["test_instances"] >= 2
    scene = bop.scene_dir(os.path.join(out, "test"), 1)
    gts = bop.load_scene_gt(os.path.join(scene, "scene_gt.json"))
    infos = bop.load_scene_gt_info(os.path.join(scene, "scene_gt_info.json"))
    cams = bop.load_scene_camera(os.path.join(scene, "scene_camera.json"))
    assert sorted(gts) == [0, 1] and [g["obj_id"] for g in gts[0]] == [1, 2, 3]
    depth = bop.load_depth(bop.image_path(scene, "depth", 0), cams[0]["depth_scale"])
    assert (
        depth.shape == (cam["height"], cam["width"]) and depth.min() > 0
    )  # the table fills the view
    for k, (g, i) in enumerate(zip(gts[0], infos[0])):
        visib = bop.load_image(bop.image_path(scene, "mask_visib", 0, k)) > 0
        full = bop.load_image(bop.image_path(scene, "mask", 0, k)) > 0
        assert visib.sum() == i["px_count_visib"] and full.sum() == i["px_count_all"]
        assert not np.any(visib & ~full)
        assert i["visib_fract"] == pytest.approx(visib.sum() / full.sum())
        # the object's centre projects inside its full-mask box; depth there is about t_z
        u, v = bop_metrics.project(np.zeros((1, 3)), cams[0]["cam_K"], g["R"], g["t"])[0]
        x, y, w, h = i["bbox_obj"]
        assert x <= u <= x + w and y <= v <= y + h
        if visib.any():
            assert np.median(depth[visib]) == pytest.approx(
                g["t"][2], abs=0.6 * info[g["obj_id"]]["diameter"]
            )
    train_gt = bop.load_scene_gt(os.path.join(out, "train", "000002", "scene_gt.json"))
    assert [g["obj_id"] for g in train_gt[0]] == [2]


def test_synthetic_upright_objects_stand_on_the_table(tmp_path):
    from posekit.synth import bop as synth

    out = str(tmp_path / "ds")
    synth.generate(out, train_per_obj=2, test_scenes=1, test_per_scene=1, seed=4, upright=True)
    scene = bop.scene_dir(os.path.join(out, "test"), 1)
    gts = bop.load_scene_gt(os.path.join(scene, "scene_gt.json"))[0]
    train = bop.load_scene_gt(os.path.join(out, "train", "000001", "scene_gt.json"))
    # every object's z axis points the same way (the table normal), towards the camera
    ups = [g["R"][:, 2] for g in gts]
    for u in ups[1:]:
        np.testing.assert_allclose(u, ups[0], atol=1e-9)
    assert ups[0][2] < 0
    for g in train.values():
        assert g[0]["R"][2, 2] < -0.4  # seen from 25-60 deg above


def sample_detections():
    return [
        {"scene_id": 1, "im_id": 3, "obj_id": 2, "bbox": [10.5, 20, 30, 40], "score": 0.9,
         "time": 0.125},
        {"scene_id": 1, "im_id": 3, "obj_id": 5, "bbox": [0, 0, 8, 9], "score": 0.25,
         "time": 0.125},
        {"scene_id": 2, "im_id": 0, "obj_id": 2, "bbox": [100, 50, 12.25, 7], "score": 1.5,
         "time": -1.0},
    ]  # fmt: skip


def test_detections_round_trip_in_the_bop22_format(tmp_path):
    path = str(tmp_path / "dets.json")
    dets = sample_detections()
    bop.save_detections(path, dets)
    raw = json.load(open(path))
    assert raw[0] == {
        "scene_id": 1,
        "image_id": 3,
        "category_id": 2,
        "score": 0.9,
        "bbox": [10.5, 20.0, 30.0, 40.0],
        "time": 0.125,
    }
    back = bop.read_detections(path)
    assert len(back) == len(dets)
    for a, b in zip(dets, back):
        assert {k: b[k] for k in ("scene_id", "im_id", "obj_id", "score", "time")} == {
            k: a[k] for k in ("scene_id", "im_id", "obj_id", "score", "time")
        }
        np.testing.assert_array_equal(b["bbox"], a["bbox"])
    # as the challenge files come: integer boxes, an RLE mask, no time; also gzipped
    raw = [{"scene_id": 1, "image_id": 3, "category_id": 2, "score": 0.5, "bbox": [1, 2, 3, 4],
            "segmentation": {"counts": "a1b2", "size": [480, 640]}}]  # fmt: skip
    gz = str(tmp_path / "dets.json.gz")
    import gzip

    with gzip.open(gz, "wt") as f:
        json.dump(raw, f)
    (d,) = bop.read_detections(gz)
    assert d["time"] == -1.0 and d["obj_id"] == 2 and list(d["bbox"]) == [1, 2, 3, 4]


@pytest.mark.parametrize(
    "index, key, value, message",
    [
        (1, "bbox", [0, 0, 8], r"detection 1: key 'bbox': expected a list of 4 numbers"),
        (1, "bbox", [0, 0, 0, 9], r"detection 1: key 'bbox': expected \[x, y, w, h\] with w, h"),
        (2, "category_id", "2", r"detection 2: key 'category_id': expected an integer"),
        (0, "score", None, r"detection 0: key 'score': expected a number"),
        (1, "time", 0.5, r"detection 1: key 'time': 0.5 differs from 0.125 of detection 0"),
    ],
)
def test_detections_reader_names_file_and_entry(tmp_path, index, key, value, message):
    path = str(tmp_path / "dets.json")
    bop.save_detections(path, sample_detections())
    raw = json.load(open(path))
    raw[index][key] = value
    with pytest.raises(bop.BopFormatError, match="dets.json: " + message):
        bop.read_detections(write(tmp_path / "dets.json", raw))
    del raw[index]["image_id"]
    with pytest.raises(bop.BopFormatError, match=rf"dets.json: detection {index}: key 'image_id'"):
        bop.read_detections(write(tmp_path / "dets.json", raw))
    with pytest.raises(bop.BopFormatError, match="expected a list of detections"):
        bop.read_detections(write(tmp_path / "dets.json", {"1": raw}))
    with pytest.raises(FileNotFoundError, match="missing.json: detections file not found"):
        bop.read_detections(str(tmp_path / "missing.json"))
