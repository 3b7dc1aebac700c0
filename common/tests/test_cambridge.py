import math
import os

import numpy as np
import pytest

from posekit import cambridge as cam

# Three rows in the published format (copied from KingsCollege's dataset_test.txt layout).
REAL_TEXT = (
    "Visual Landmark Dataset V1\n"
    "ImageFile, Camera Position [X Y Z W P Q R]\n"
    "\n"
    "seq7/frame00030.png -20.134839 -16.641770 1.735459 0.672315 0.574745 -0.296687 0.360053\n"
    "seq7/frame00029.png -20.932895 -16.398778 1.587640 0.649817 0.579078 -0.314630 0.378702\n"
    "seq2/frame00001.png 10.000000 2.000000 1.500000 1.000000 0.000000 0.000000 0.000000\n"
)


def write(tmp_path, text, name="dataset_test.txt", mode="w"):
    path = tmp_path / name
    with open(path, mode, newline="") as f:
        f.write(text)
    return str(path)


def test_reads_published_layout(tmp_path):
    split = cam.read_split(write(tmp_path, REAL_TEXT))
    assert split.names == ["seq7/frame00030.png", "seq7/frame00029.png", "seq2/frame00001.png"]
    assert split.sequences == ["seq7", "seq7", "seq2"]
    np.testing.assert_allclose(split.positions[0], [-20.134839, -16.641770, 1.735459])
    # Stored quaternions are unit to ~1e-6 and come back normalised.
    np.testing.assert_allclose(np.linalg.norm(split.quaternions, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(
        split.quaternions[0], [0.672315, 0.574745, -0.296687, 0.360053], 1e-5
    )


def test_crlf_and_trailing_blank_lines_accepted(tmp_path):
    text = REAL_TEXT.replace("\n", "\r\n") + "\r\n\r\n"
    assert len(cam.read_split(write(tmp_path, text))) == 3


@pytest.mark.parametrize(
    "bad_row, message",
    [
        ("seq1/frame00002.png 1 2 3 1 0 0", "expected 8 fields"),
        ("seq1/frame00002.png 1 2 x 1 0 0 0", "field Z is not a number: 'x'"),
        ("seq1/frame00002.png 1 2 3 nan 0 0 0", "field W is not finite"),
        ("seq1/frame00002.png 1 2 3 0 0 0 0", "zero norm"),
        ("seq7/frame00030.png 1 2 3 1 0 0 0", "listed twice (first on line 4)"),
    ],
)
def test_bad_row_names_file_and_line(tmp_path, bad_row, message):
    path = write(tmp_path, REAL_TEXT + bad_row + "\n")
    with pytest.raises(cam.CambridgeFormatError) as err:
        cam.read_split(path)
    assert f"{path}:7:" in str(err.value)
    assert message in str(err.value)


def test_bad_header_and_empty_file(tmp_path):
    path = write(tmp_path, REAL_TEXT.replace("Dataset V1", "Dataset V2"))
    with pytest.raises(cam.CambridgeFormatError, match=r":1: header line 1 should be"):
        cam.read_split(path)
    path = write(tmp_path, "\n".join(cam.HEADER) + "\n")
    with pytest.raises(cam.CambridgeFormatError, match="no image rows"):
        cam.read_split(path)
    with pytest.raises(cam.CambridgeFormatError, match="file not found"):
        cam.read_split(str(tmp_path / "absent.txt"))


def test_missing_images_listed_with_count(tmp_path):
    names = [f"seq1/frame{i:05d}.png" for i in range(1, 9)]
    cam.write_split(
        str(tmp_path / "dataset_train.txt"), names, np.zeros((8, 3)), [[1, 0, 0, 0]] * 8
    )
    os.makedirs(tmp_path / "seq1")
    (tmp_path / "seq1" / "frame00002.png").write_bytes(b"")
    with pytest.raises(cam.CambridgeFormatError) as err:
        cam.load_split(str(tmp_path), "train")
    text = str(err.value)
    assert "7 of 8 images missing" in text
    assert "seq1/frame00001.png, seq1/frame00003.png" in text and text.endswith(", ...")
    assert "frame00002" not in text
    assert len(cam.load_split(str(tmp_path), "train", check=False)) == 8


def test_write_read_round_trip_matches_published_bytes(tmp_path):
    split = cam.read_split(write(tmp_path, REAL_TEXT))
    out = str(tmp_path / "dataset_train.txt")
    cam.write_split(out, split.names, split.positions, split.quaternions)
    with open(out) as f:
        written = f.read()
    # Same header and 6-decimal rows; the stored quaternions were unit to 6 decimals already.
    assert written.splitlines()[:4] == REAL_TEXT.splitlines()[:4]
    again = cam.read_split(out)
    np.testing.assert_allclose(again.positions, split.positions, atol=1e-6)
    np.testing.assert_allclose(again.quaternions, split.quaternions, atol=2e-6)
    assert not os.path.exists(out + ".part")
    with pytest.raises(ValueError, match="same count"):
        cam.write_split(out, ["a.png"], np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="without spaces"):
        cam.write_split(out, ["a b.png"], np.zeros((1, 3)), [[1, 0, 0, 0]])


def test_pose_errors_hand_worked():
    half = math.sqrt(0.5)
    pos_err, rot_err = cam.pose_errors(
        [[0, 0, 0], [1, 1, 1], [0, 0, 0]],
        [[1, 0, 0, 0], [1, 0, 0, 0], [half, 0, 0, half]],
        [[3, 4, 0], [1, 1, 1], [0, 0, 0]],
        # 90 deg about z; -q is the same rotation; 180 deg about x vs 90 deg about z:
        # the relative quaternion q1* q2 has w = 0, so 180 deg.
        [[half, 0, 0, half], [-1, 0, 0, 0], [0, 1, 0, 0]],
    )
    np.testing.assert_allclose(pos_err, [5, 0, 0])
    np.testing.assert_allclose(rot_err, [90, 0, 180], atol=1e-9)


def test_rotation_error_never_nan_and_unnormalised_prediction():
    q = np.array([[0.672315, 0.574745, -0.296687, 0.360053]])
    # A network output is not unit length: it is normalised before the angle.
    _, rot = cam.pose_errors(np.zeros((1, 3)), q, np.zeros((1, 3)), q * 3.7)
    assert np.isfinite(rot).all() and rot[0] < 1e-4


def test_summarize_per_sequence():
    stats = cam.summarize([1, 2, 3, 10], [4, 5, 6, 40], ["seq2", "seq2", "seq2", "seq3"])
    assert stats["all"]["median_position_m"] == 2.5 and stats["all"]["count"] == 4
    assert stats["seq2"] == {
        "median_position_m": 2.0,
        "median_rotation_deg": 5.0,
        "mean_position_m": 2.0,
        "mean_rotation_deg": 5.0,
        "count": 3,
    }
    assert stats["seq3"]["median_rotation_deg"] == 40.0


def test_mean_quaternion_ignores_sign_and_baseline():
    half = math.sqrt(0.5)
    q = np.array([[1, 0, 0, 0], [-1, 0, 0, 0], [half, 0, 0, half], [-half, 0, 0, -half]])
    mean = cam.mean_quaternion(q)
    # Halfway between 0 and 90 deg about z: 45 deg.
    np.testing.assert_allclose(mean, [math.cos(math.pi / 8), 0, 0, math.sin(math.pi / 8)], 1e-9)
    train = cam.Split(["a/1.png", "a/2.png"], np.array([[0, 0, 0], [2, 0, 0.0]]), q[[0, 2]])
    test = cam.Split(["b/1.png"], np.array([[1, 3, 0.0]]), np.array([[1.0, 0, 0, 0]]))
    base = cam.mean_pose_baseline(train, test)
    assert base["median_position_m"] == pytest.approx(3.0)
    assert base["median_rotation_deg"] == pytest.approx(45.0)


def test_synth_sequence_names_interleave_like_the_real_scenes():
    from posekit.synth import cambridge as synth

    assert synth.sequence_names(5, 3) == (
        ["seq1", "seq3", "seq4", "seq6", "seq7"],
        ["seq2", "seq5", "seq8"],
    )
    assert synth.sequence_names(1, 2) == (["seq1"], ["seq2", "seq3"])


def test_synth_look_rotation_conventions():
    from posekit.synth import cambridge as synth

    # Heading north, level: camera z (forward) is world +y, camera y (down) is world -z.
    R = synth.look_rotation(0.0, 0.0, 0.0)
    np.testing.assert_allclose(R @ [0, 1, 0], [0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(R @ [0, 0, 1], [0, -1, 0], atol=1e-12)
    # Heading east (+90 deg) looks along world +x; pitching up raises the optical axis.
    east = synth.look_rotation(math.pi / 2, 0, 0)
    np.testing.assert_allclose(east @ [1, 0, 0], [0, 0, 1], atol=1e-12)
    up = synth.look_rotation(0.0, 0.3, 0.0).T @ [0, 0, 1]
    assert up[2] == pytest.approx(math.sin(0.3))
    assert np.linalg.det(synth.look_rotation(0.4, 0.1, 0.05)) == pytest.approx(1.0)


def test_synth_scene_layout_and_poses_reproduce_the_images(tmp_path):
    pytest.importorskip("OpenGL")
    from PIL import Image

    from posekit import geometry
    from posekit.render import Renderer
    from posekit.synth import cambridge as synth

    out = str(tmp_path / "Synth")
    counts = synth.generate(out, train_seqs=2, test_seqs=1, frames=3, width=48, height=32, seed=4)
    assert counts == {"train": 6, "test": 3}
    train = cam.load_split(out, "train")  # also checks that every image exists
    test = cam.load_split(out, "test")
    assert sorted(set(train.sequences)) == ["seq1", "seq3"] and set(test.sequences) == {"seq2"}
    assert test.names == ["seq2/frame00001.png", "seq2/frame00002.png", "seq2/frame00003.png"]
    assert Image.open(os.path.join(out, test.names[0])).size == (48, 32)
    assert np.all((train.positions[:, 2] > 1.4) & (train.positions[:, 2] < 2.0))
    # The written pose alone (centre + world-to-camera quaternion, as the published files)
    # renders the written image again.
    parts = synth.build_scene(np.random.default_rng(4))
    K = synth.intrinsics(48, 32, 60.0)
    with Renderer(48, 32) as renderer:
        handles = [renderer.upload(p) for p in parts]
        for k in (0, 2):
            R = geometry.quat_to_matrix(test.quaternions[k])
            again = synth.render_view(renderer, handles, K, R, test.positions[k])
            saved = np.asarray(Image.open(os.path.join(out, test.names[k])))
            assert np.mean(np.abs(again.astype(int) - saved.astype(int)) > 8) < 0.02
