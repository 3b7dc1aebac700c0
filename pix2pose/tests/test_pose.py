import numpy as np
import pytest
from src import xyz
from src.pose import Pix2PoseEstimator, crop, crop_to_image, draw_outline, square_box

from posekit import bop_metrics
from posekit import mesh as meshlib

K = np.array([[380.0, 0, 160], [0, 380.0, 120], [0, 0, 1]])


def model():
    eye = np.eye(3)
    return meshlib.merge(
        [meshlib.box((80, 40, 24)), meshlib.box((24, 40, 40)).transformed(eye, (28, 0, 32))]
    )


def coordinate_image(m, nf, R, t):
    """The 'perfect network' input: an image whose colours are the normalised coordinates
    (grey background), rendered with the posekit renderer."""
    from posekit.render import Renderer

    colored = meshlib.Mesh(m.vertices, m.faces, xyz.xyz_colors(m.vertices, nf), m.normals)
    with Renderer(320, 240) as r:
        out = r.render(colored, K, R, t, 10, 5000, unlit=True)
    img = out.rgb.copy()
    img[~out.mask] = 128
    return img, out.mask


def identity_net(batch):
    """Reads the coordinates back from the input colours; no error anywhere."""
    rgb = batch * 128.0 + 128.0
    n = rgb / 127.5 - 1.0
    n[np.abs(rgb - 128).max(-1) < 1.0] = 0.0
    return n.astype(np.float32), np.zeros(batch.shape[:3] + (1,), np.float32)


identity_net.size = 64


def test_crop_pixel_centres_map_back_to_the_image():
    img = np.arange(20 * 30, dtype=np.float32).reshape(20, 30)
    c = crop(img, 5.0, 3.0, 8.0, 8, interp=0)  # 1:1 crop starting at (5, 3)
    np.testing.assert_array_equal(c, img[3:11, 5:13])
    uu, vv = crop_to_image(5.0, 3.0, 8.0, 8)
    assert uu[0, 0] == 5 and vv[0, 0] == 3 and uu[0, 7] == 12
    u0, v0, side = square_box((10, 20, 40, 20), 1.5)
    assert (u0, v0, side) == (0.0, 0.0, 60.0)


@pytest.mark.parametrize("seed", [0, 1])
def test_pnp_recovers_a_known_pose_from_rendered_correspondences(seed):
    rng = np.random.default_rng(seed)
    m = model()
    nf = xyz.norm_factor(m.vertices)
    q = rng.normal(size=4)
    R = bop_metrics.axis_angle_matrix(q[1:], 2 * np.arccos(abs(q[0]) / np.linalg.norm(q)))
    t = np.array([rng.uniform(-30, 30), rng.uniform(-20, 20), rng.uniform(450, 600)])
    img, mask = coordinate_image(m, nf, R, t)
    ys, xs = np.nonzero(mask)
    box = (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
    est = Pix2PoseEstimator(
        identity_net, 64, K, nf, th_outlier=(0.2,), th_inlier=0.1, ransac_reproj_px=3.0
    )
    res = est.estimate(img, box)
    assert res is not None
    assert bop_metrics.re(res["R"], R) < 2.0
    assert bop_metrics.te(res["t"], t) < 0.02 * np.linalg.norm(t)
    assert bop_metrics.add(res["R"], res["t"], R, t, m.vertices) < 0.05 * 110
    assert 0 < res["score"] <= 1.5 and res["n_inliers"] >= 6


def test_no_object_gives_no_pose():
    est = Pix2PoseEstimator(identity_net, 64, K, xyz.norm_factor(model().vertices))
    assert est.estimate(np.full((240, 320, 3), 128, np.uint8), (100, 100, 40, 40)) is None


def test_draw_outline_marks_the_mask_border():
    img = np.zeros((20, 20, 3), np.uint8)
    mask = np.zeros((20, 20), bool)
    mask[5:15, 5:15] = True
    out = draw_outline(img, mask, (255, 0, 0))
    assert out[5, 5, 0] == 255 and out[10, 10, 0] == 0 and img.max() == 0
