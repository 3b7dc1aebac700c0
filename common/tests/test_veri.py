"""posekit.veri: the PAMTRI VeRi label CSVs, MultiTaskNet tables, flip pairs and parts."""

from __future__ import annotations

import ctypes.util
import math
import os

import numpy as np
import pytest
from PIL import Image

from posekit import veri


def _row(name="0001_c001_00016450_0.jpg", width=126, height=135, seed=0):
    rng = np.random.default_rng(seed)
    cells = [name, str(width), str(height)]
    for _ in range(veri.NUM_JOINTS):
        cells += [str(rng.integers(0, width)), str(rng.integers(0, height))]
        cells.append(str(rng.integers(0, 2)))
    return cells


def _write(path, rows, newline="\n"):
    path.write_bytes(newline.join(",".join(r) for r in rows).encode() + newline.encode())
    return str(path)


def test_reads_the_real_layout_and_writes_it_back_byte_for_byte(tmp_path):
    rows = [_row("b.jpg", 200, 100, 1), _row("a.jpg", 126, 135, 2)]
    path = _write(tmp_path / "label_test.csv", rows)
    labels = veri.read_labels(path)
    assert labels.names == ["b.jpg", "a.jpg"]  # file order kept
    assert labels.sizes.tolist() == [[200, 100], [126, 135]]
    assert labels.joints.shape == (2, 36, 2) and labels.visible.shape == (2, 36)
    assert labels.joints[1, 5].tolist() == [int(rows[1][3 + 15]), int(rows[1][3 + 16])]
    assert labels.visible[1, 5] == int(rows[1][3 + 17])
    assert labels.boxes()[0].tolist() == [0, 0, 200, 100]
    out = tmp_path / "again.csv"
    veri.write_labels(str(out), labels)
    assert out.read_bytes() == (tmp_path / "label_test.csv").read_bytes()


def test_accepts_crlf_and_trailing_blank_lines(tmp_path):
    path = _write(tmp_path / "l.csv", [_row(), _row("x.jpg")], newline="\r\n")
    with open(path, "ab") as f:
        f.write(b"\r\n\r\n")
    assert veri.read_labels(path).names == ["0001_c001_00016450_0.jpg", "x.jpg"]


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda r: r[:-1], r"l\.csv:2: expected 111 comma-separated fields .* got 110"),
        (
            lambda r: r[:19] + ["5.5"] + r[20:],
            r"l\.csv:2: field y5 \(column 20\) is not an integer",
        ),
        (
            lambda r: r[:20] + ["2"] + r[21:],
            r"l\.csv:2: field vis5 \(column 21\) must be 0 .* got 2",
        ),
        (lambda r: r[:1] + ["0"] + r[2:], r"l\.csv:2: field width must be a positive"),
        (lambda r: ["first.jpg"] + r[1:], r"l\.csv:2: image first\.jpg is listed twice .*line 1"),
        (lambda r: [""] + r[1:], r"l\.csv:2: field image_name is empty"),
    ],
)
def test_bad_rows_name_the_file_line_and_field(tmp_path, edit, message):
    rows = [_row("first.jpg"), edit(_row("second.jpg"))]
    path = _write(tmp_path / "l.csv", rows)
    with pytest.raises(veri.VeriFormatError, match=message):
        veri.read_labels(path)


def test_header_missing_and_empty_files_are_explained(tmp_path):
    header = ["image_name", "width", "height"] + ["x", "y", "vis"] * 36
    path = _write(tmp_path / "h.csv", [header, _row()])
    with pytest.raises(veri.VeriFormatError, match=r"h\.csv:1: .*must have no header"):
        veri.read_labels(path)
    with pytest.raises(veri.VeriFormatError, match="file not found"):
        veri.read_labels(str(tmp_path / "missing.csv"))
    (tmp_path / "e.csv").write_text("\n")
    with pytest.raises(veri.VeriFormatError, match="no label rows"):
        veri.read_labels(str(tmp_path / "e.csv"))
    (tmp_path / "b.csv").write_bytes(b"\xff\xfe" + b"x" * 10)
    with pytest.raises(veri.VeriFormatError, match="not UTF-8"):
        veri.read_labels(str(tmp_path / "b.csv"))


def test_write_rejects_bad_arrays(tmp_path):
    labels = veri.Labels(["a.jpg"], np.array([[10, 10]]), np.zeros((1, 35, 2)), np.zeros((1, 35)))
    with pytest.raises(ValueError, match=r"joints: expected shape \(1, 36, 2\)"):
        veri.write_labels(str(tmp_path / "x.csv"), labels)
    labels = veri.Labels(["a.jpg"], np.array([[10, 10]]), np.zeros((1, 36, 2)), np.full((1, 36), 3))
    with pytest.raises(ValueError, match="visible: values must be 0 or 1"):
        veri.write_labels(str(tmp_path / "x.csv"), labels)
    assert not (tmp_path / "x.csv").exists()


def test_flip_pairs_parts_and_names():
    assert veri.FLIP_PAIRS[0] == (0, 18) and veri.FLIP_PAIRS[-1] == (17, 35)
    covered = sorted(k for _, joints in veri.PARTS for k in joints)
    assert covered == list(range(36))  # every joint in exactly one part
    assert [n for n, _ in veri.PARTS] == [
        "Wheel", "Fender", "Back", "Front", "WindshieldBack", "WindshieldFront",
    ]  # fmt: skip
    for _, joints in veri.PARTS:  # parts are closed under flipping
        assert sorted((k + 18) % 36 for k in joints) == sorted(joints)
    assert len(veri.JOINT_NAMES) == 36 and veri.JOINT_NAMES[18] == "right_rear_wheel"
    assert all(max(s) < 36 for s in veri.SEGMENTS) and len(veri.SEGMENTS) == 13
    for a, b in veri.SKELETON:
        assert 0 <= a < 36 and 0 <= b < 36


def test_flip_labels_mirrors_x_and_swaps_sides():
    rng = np.random.default_rng(3)
    joints = rng.uniform(0, 100, (2, 36, 2))
    vis = rng.integers(0, 2, (2, 36))
    fj, fv = veri.flip_labels(joints, vis, width=101)
    assert np.allclose(fj[:, 18, 0], 100 - joints[:, 0, 0])
    assert np.allclose(fj[:, 0, 1], joints[:, 18, 1])
    assert (fv[:, 3] == vis[:, 21]).all()
    back, back_vis = veri.flip_labels(fj, fv, width=101)
    assert np.allclose(back, joints) and (back_vis == vis).all()


def test_pose_tables_multitasknet_and_trans_output(tmp_path):
    rng = np.random.default_rng(5)
    table = veri.PoseTable(
        names=["0002_c002_00030600_0.jpg", "0002_c003_00084280_0.jpg"],
        points=np.round(rng.uniform(0, 400, (2, 36, 2)), 3),
        scores=np.round(rng.uniform(0, 1, (2, 36)), 3),
        extra=np.array([[2, 1, 4], [2, 1, 4]]),
    )
    path = str(tmp_path / "label_query.csv")
    veri.write_pose_table(path, table)
    line = open(path).readline().rstrip("\n").split(",")
    assert len(line) == 112 and line[:4] == ["0002_c002_00030600_0.jpg", "2", "1", "4"]
    back = veri.read_pose_table(path)
    assert back.extra.tolist() == [[2, 1, 4], [2, 1, 4]]
    assert np.allclose(back.points, table.points) and np.allclose(back.scores, table.scores)

    table.extra = None
    pose = str(tmp_path / "pose_query.csv")
    veri.write_pose_table(pose, table)
    assert len(open(pose).readline().split(",")) == 109
    assert veri.read_pose_table(pose).extra is None

    with open(pose, "a") as f:
        f.write("short.jpg,1,2,3\n")
    with pytest.raises(veri.VeriFormatError, match=r"pose_query\.csv:3: expected 109 fields"):
        veri.read_pose_table(pose)
    bad = tmp_path / "bad.csv"
    bad.write_text("a.jpg,1,2\n")
    with pytest.raises(veri.VeriFormatError, match="expected 112 fields .* or 109 fields"):
        veri.read_pose_table(str(bad))
    cells = open(path).readline().rstrip("\n").split(",")
    cells[10] = "nan"
    bad.write_text(",".join(cells) + "\n")
    with pytest.raises(veri.VeriFormatError, match=r"bad\.csv:1: field x2 is not finite"):
        veri.read_pose_table(str(bad))


def test_mean_layout_baseline_places_the_average_in_each_box():
    joints = np.zeros((2, 36, 2))
    joints[0, :, 0], joints[0, :, 1] = 50, 25  # centre of a 100 x 50 image
    joints[1, :, 0], joints[1, :, 1] = 0, 0
    labels = veri.Labels(["a", "b"], np.array([[100, 50], [10, 10]]), joints, np.ones((2, 36)))
    layout = veri.mean_layout(labels)
    assert np.allclose(layout, [0.25, 0.25])
    placed = veri.place_layout(layout, np.array([[40, 80]]))
    assert placed.shape == (1, 36, 2) and np.allclose(placed[0, 7], [10, 20])


def test_paths_of_a_posedata_folder():
    assert veri.label_path("root", "train").replace("\\", "/") == "root/annot/label_train.csv"
    assert veri.image_dir("root", "test").replace("\\", "/") == "root/images/image_test"
    with pytest.raises(ValueError, match="split must be one of"):
        veri.label_path("root", "query")


# --- posekit synth veri -------------------------------------------------------------------------

_PLATFORM = os.environ.get("PYOPENGL_PLATFORM", "osmesa")
needs_gl = pytest.mark.skipif(
    ctypes.util.find_library("EGL" if _PLATFORM == "egl" else "OSMesa") is None,
    reason="no OpenGL library for the offscreen renderer (Debian: libosmesa6)",
)


def test_synthetic_keypoints_are_mirror_pairs_under_flip_pairs():
    from posekit.synth import veri as synth

    rng = np.random.default_rng(4)
    frame = 120
    K = np.array([[150.0, 0, frame / 2 - 0.5], [0, 150.0, frame / 2 - 0.5], [0, 0, 1]])
    for _ in range(3):
        vehicle = synth.make_vehicle(rng)
        assert vehicle.keypoints.shape == (36, 3)
        assert (vehicle.keypoints[:18, 1] > 0).all()  # indices 0..17 on the car's left (+y)
        for az in (35.0, 120.0, 200.0):
            views = []
            for a in (az, -az):
                eye = 9.0 * np.array([math.cos(math.radians(a)), math.sin(math.radians(a)), 0.4])
                R, t = synth.look_at(eye + [0, 0, 0.7], [0, 0, 0.7])
                cam = vehicle.keypoints @ R.T + t
                views.append((cam @ K.T)[:, :2] / cam[:, 2:])
            mirrored, _ = veri.flip_labels(views[0], np.ones(36), frame)
            assert np.allclose(mirrored, views[1], atol=1e-6)


@needs_gl
def test_side_view_depth_test_hides_the_far_side():
    from posekit.render import Renderer
    from posekit.synth import veri as synth

    rng = np.random.default_rng(7)
    vehicle = synth.make_vehicle(rng)
    with Renderer(128, 128) as renderer:
        # camera on the car's left (+y): its front points to the image left, as in VeRi
        crop, points, vis = synth.render_view(renderer, vehicle, rng, 128, azimuth=90, elevation=10)
    assert crop.ndim == 3 and crop.shape[2] == 3
    assert vis[[0, 1, 2, 5, 9, 10, 17]].all()  # near wheels, arches, ends
    assert not vis[[18, 19, 20, 23, 27]].any()  # far wheels and arches hidden by the body
    assert points[17, 0] < points[10, 0]  # front bottom left of back bottom
    inside = (points >= 0).all(1) & (points[:, 0] < crop.shape[1]) & (points[:, 1] < crop.shape[0])
    assert inside[vis > 0].all()


@needs_gl
def test_generator_writes_the_real_layout(tmp_path):
    from posekit.synth import veri as synth

    out, mt = tmp_path / "veri", tmp_path / "mt"
    paths = synth.generate(str(out), train=2, test=2, views=2, frame=96, seed=1, multitask=str(mt))
    train = veri.read_labels(paths["train"])
    test = veri.read_labels(paths["test"])
    assert len(train) == 4 and len(test) == 4
    assert not {n.split("_")[0] for n in train.names} & {n.split("_")[0] for n in test.names}
    for labels, split in ((train, "train"), (test, "test")):
        for name, (w, h) in zip(labels.names, labels.sizes):
            with Image.open(os.path.join(veri.image_dir(str(out), split), name)) as img:
                assert img.size == (w, h) and img.format == "JPEG"
    assert train.visible.sum() > 0 and (train.visible == 0).sum() > 0
    query = veri.read_pose_table(str(mt / "label_query.csv"))
    gallery = veri.read_pose_table(str(mt / "label_test.csv"))
    assert len(query) == 2 and len(gallery) == 2 and query.extra.shape == (2, 3)
    assert (mt / "image_query" / query.names[0]).is_file()
