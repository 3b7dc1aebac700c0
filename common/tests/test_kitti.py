import os

import numpy as np
import pytest

from posekit import kitti

# First lines of real KITTI odometry files (sequence 00 calib.txt, poses/09.txt, times.txt).
CALIB = (
    "P0: 7.188560000000e+02 0.000000000000e+00 6.071928000000e+02 0.000000000000e+00 "
    "0.000000000000e+00 7.188560000000e+02 1.852157000000e+02 0.000000000000e+00 "
    "0.000000000000e+00 0.000000000000e+00 1.000000000000e+00 0.000000000000e+00\n"
    "P1: 7.188560000000e+02 0.000000000000e+00 6.071928000000e+02 "
    "-3.861448000000e+02 0.000000000000e+00 7.188560000000e+02 1.852157000000e+02 "
    "0.000000000000e+00 0.000000000000e+00 0.000000000000e+00 1.000000000000e+00 "
    "0.000000000000e+00\n"
    "P2: 7.188560000000e+02 0.000000000000e+00 6.071928000000e+02 4.538225000000e+01 "
    "0.000000000000e+00 7.188560000000e+02 1.852157000000e+02 -1.130887000000e-01 "
    "0.000000000000e+00 0.000000000000e+00 1.000000000000e+00 3.779761000000e-03\n"
    "P3: 7.188560000000e+02 0.000000000000e+00 6.071928000000e+02 "
    "-3.372877000000e+02 0.000000000000e+00 7.188560000000e+02 1.852157000000e+02 "
    "2.369057000000e+00 0.000000000000e+00 0.000000000000e+00 1.000000000000e+00 "
    "4.915215000000e-03\n"
    "Tr: 4.276802385584e-04 -9.999672484946e-01 -8.084491683471e-03 "
    "-1.198459927713e-02 -7.210626507497e-03 8.081198471645e-03 -9.999413164504e-01 "
    "-5.403984729748e-02 9.999738645903e-01 4.859485810390e-04 -7.206933692422e-03 "
    "-2.921968648686e-01\n"
)
POSES = (
    "1.000000e+00 1.197625e-11 1.704638e-10 5.551115e-17 1.197625e-11 1.000000e+00 "
    "3.562503e-10 0.000000e+00 1.704638e-10 3.562503e-10 1.000000e+00 2.220446e-16\n"
    "9.999268e-01 -3.092411e-03 1.169425e-02 2.138869e-02 3.079219e-03 9.999946e-01 "
    "1.146026e-03 -8.456433e-03 -1.169773e-02 -1.109933e-03 9.999310e-01 "
    "2.880714e-01\n"
    "9.998143e-01 -5.167713e-03 1.856600e-02 3.879027e-02 5.141246e-03 9.999857e-01 "
    "1.473072e-03 -1.513783e-02 -1.857335e-02 -1.377345e-03 9.998266e-01 "
    "5.807338e-01\n"
)
TIMES = "0.000000e+00\n1.036000e-01\n2.072000e-01\n"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_real_calib_lines(tmp_path):
    calib = kitti.read_calib(write(tmp_path, "calib.txt", CALIB))
    assert list(calib) == ["P0", "P1", "P2", "P3", "Tr"]
    K = kitti.intrinsics_from_calib(calib)
    np.testing.assert_allclose(K, [[718.856, 0, 607.1928], [0, 718.856, 185.2157], [0, 0, 1]])
    assert calib["P2"][0, 3] == pytest.approx(45.38225)


def test_calib_without_keys_reads_rows_in_order(tmp_path):
    bare = "\n".join(line.split(":", 1)[1].strip() for line in CALIB.splitlines()[:2])
    calib = kitti.read_calib(write(tmp_path, "calib.txt", bare + "\n"))
    assert list(calib) == ["P0", "P1"]
    assert calib["P1"][0, 3] == pytest.approx(-386.1448)


def test_calib_round_trip(tmp_path):
    calib = kitti.read_calib(write(tmp_path, "a.txt", CALIB))
    kitti.write_calib(str(tmp_path / "b.txt"), calib)
    again = kitti.read_calib(str(tmp_path / "b.txt"))
    for key in calib:
        np.testing.assert_allclose(again[key], calib[key], rtol=1e-12)


def test_calib_errors_name_line(tmp_path):
    lines = CALIB.splitlines()
    lines[2] = "P2: 1 2 3"
    with pytest.raises(kitti.KittiFormatError, match=r"calib.txt:3: expected 12 numbers for P2"):
        kitti.read_calib(write(tmp_path, "calib.txt", "\n".join(lines)))
    lines[2] = "P2: " + " ".join(["1"] * 11 + ["x"])
    with pytest.raises(kitti.KittiFormatError, match=r":3: .*non-number 'x'"):
        kitti.read_calib(write(tmp_path, "calib.txt", "\n".join(lines)))
    with pytest.raises(kitti.KittiFormatError, match="no P2"):
        kitti.intrinsics_from_calib({"P0": np.zeros((3, 4))})


def test_poses_and_times(tmp_path):
    poses = kitti.read_poses(write(tmp_path, "09.txt", POSES))
    assert poses.shape == (3, 4, 4)
    np.testing.assert_allclose(poses[2, :3, 3], [3.879027e-02, -1.513783e-02, 5.807338e-01])
    np.testing.assert_array_equal(poses[:, 3], [[0, 0, 0, 1]] * 3)
    times = kitti.read_times(write(tmp_path, "times.txt", TIMES))
    np.testing.assert_allclose(times, [0.0, 0.1036, 0.2072])
    kitti.write_poses(str(tmp_path / "out.txt"), poses)
    np.testing.assert_allclose(kitti.read_poses(str(tmp_path / "out.txt")), poses, atol=1e-6)


def test_poses_with_frame_index(tmp_path):
    # kitti-odom-eval style: a leading frame index, frames may start later than 0.
    rows = POSES.splitlines()
    text = "\n".join(f"{i + 2} {row}" for i, row in enumerate(rows))
    ids, poses = kitti.read_poses_with_ids(write(tmp_path, "p.txt", text))
    np.testing.assert_array_equal(ids, [2, 3, 4])
    assert poses.shape == (3, 4, 4)
    with pytest.raises(kitti.KittiFormatError, match="one pose per frame 0..N-1"):
        kitti.read_poses(str(tmp_path / "p.txt"))


def test_pose_errors(tmp_path):
    rows = POSES.splitlines()
    bad = rows[:1] + [" ".join(rows[1].split()[:11])] + rows[2:]
    with pytest.raises(kitti.KittiFormatError, match=r"p.txt:2: expected 12 numbers"):
        kitti.read_poses(write(tmp_path, "p.txt", "\n".join(bad)))
    not_rot = " ".join(["2"] * 12)
    with pytest.raises(kitti.KittiFormatError, match=r":1: expected a rotation"):
        kitti.read_poses(write(tmp_path, "p.txt", not_rot))
    with pytest.raises(kitti.KittiFormatError, match=r":2: timestamps must not decrease"):
        kitti.read_times(write(tmp_path, "t.txt", "1.0\n0.5\n"))
    with pytest.raises(kitti.KittiFormatError, match="empty file"):
        kitti.read_poses(write(tmp_path, "e.txt", "\n"))


def test_cam_txt_round_trip_and_errors(tmp_path):
    path = write(
        tmp_path, "000001_cam.txt", "241.674463,0.,204.168010,0.,246.284868,59.000832,0.,0.,1."
    )
    K = kitti.read_cam_txt(path)
    np.testing.assert_allclose(
        K, [[241.674463, 0, 204.16801], [0, 246.284868, 59.000832], [0, 0, 1]]
    )
    kitti.write_cam_txt(str(tmp_path / "b_cam.txt"), K)
    np.testing.assert_allclose(kitti.read_cam_txt(str(tmp_path / "b_cam.txt")), K, atol=1e-6)
    with pytest.raises(kitti.KittiFormatError, match=r":1: expected 9 comma-separated"):
        kitti.read_cam_txt(write(tmp_path, "c_cam.txt", "1,2,3"))


def test_split_lists(tmp_path):
    geonet = kitti.read_split(write(tmp_path, "train.txt", "00 000001\n08 004070\n"))
    assert geonet == [("00", "000001", None), ("08", "004070", None)]
    mono = kitti.read_split(write(tmp_path, "test_files_09.txt", "9 0 l\n9 1 l\n"))
    assert mono[1] == kitti.SplitEntry("9", "1", "l")
    with pytest.raises(kitti.KittiFormatError, match=r":2: expected side 'l' or 'r'"):
        kitti.read_split(write(tmp_path, "s.txt", "9 0 l\n9 1 x\n"))
    with pytest.raises(kitti.KittiFormatError, match=r":1: expected '<folder> <frame>"):
        kitti.read_split(write(tmp_path, "s.txt", "9\n"))
    kitti.write_split(str(tmp_path / "w.txt"), [("01", "000005")])
    assert (tmp_path / "w.txt").read_text() == "01 000005\n"


def test_depth_png_round_trip(tmp_path):
    depth = np.array([[0.0, 1.5], [79.99, np.nan]])
    path = str(tmp_path / "d.png")
    kitti.write_depth_png(path, depth)
    back = kitti.read_depth_png(path)
    np.testing.assert_allclose(back, [[0, 1.5], [79.98828125, 0]])
    with pytest.raises(ValueError, match="cannot be stored"):
        kitti.write_depth_png(path, np.full((2, 2), 300.0))


def test_count_frames_and_layout(tmp_path):
    root = str(tmp_path)
    img_dir = os.path.dirname(kitti.image_path(root, 9, 0))
    os.makedirs(img_dir)
    for i in (0, 1, 3):
        open(os.path.join(img_dir, f"{i:06d}.png"), "wb").close()
    with pytest.raises(kitti.KittiFormatError, match="first missing 000002.png"):
        kitti.count_frames(root, 9)
    open(os.path.join(img_dir, "000002.png"), "wb").close()
    assert kitti.count_frames(root, 9) == 4
    assert kitti.pose_path(root, 9).endswith(os.path.join("poses", "09.txt"))
