import math

import numpy as np
import pytest

from posekit import topdown as td

COCO_PAIRS = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)]
VERI_PAIRS = [(i, i + 18) for i in range(18)]


def test_box_to_center_scale_hand_worked():
    # w 30 < 0.75 * 80 -> widened to 60; scale = (60, 80) / 200 * 1.25
    center, scale = td.box_to_center_scale([10, 20, 30, 80], aspect_ratio=0.75)
    np.testing.assert_allclose(center, [25, 60])
    np.testing.assert_allclose(scale, [0.375, 0.5])
    # a wide box grows in height instead: h = 120 / 0.75 = 160
    center, scale = td.box_to_center_scale([0, 0, 120, 40], aspect_ratio=0.75)
    np.testing.assert_allclose(center, [60, 20])
    np.testing.assert_allclose(scale, [120 / 200 * 1.25, 160 / 200 * 1.25])


def test_affine_maps_box_onto_output_and_rotates_counter_clockwise():
    center, scale = np.array([100.0, 50.0]), np.array([0.4, 0.8])  # box 80 x 160 px
    m = td.affine_matrix(center, scale, 0.0, (40, 80))
    np.testing.assert_allclose(td.apply_affine(center, m), [20, 40])
    # the box's corners land on the output's corners (zoom 40 / 80)
    np.testing.assert_allclose(td.apply_affine([[60, -30], [140, 130]], m), [[0, 0], [40, 80]])
    # rotation 90: a point right of the centre goes up on screen (y decreases)
    m90 = td.affine_matrix(center, scale, 90.0, (40, 80))
    np.testing.assert_allclose(td.apply_affine([110, 50], m90), [20, 35], atol=1e-9)


def test_inverse_affine_composes_to_identity():
    rng = np.random.default_rng(1)
    for _ in range(20):
        center = rng.uniform(0, 500, 2)
        scale = rng.uniform(0.2, 3, 2)
        rot = rng.uniform(-180, 180)
        size = (int(rng.integers(16, 300)), int(rng.integers(16, 300)))
        fwd = td.affine_matrix(center, scale, rot, size)
        inv = td.affine_matrix(center, scale, rot, size, inverse=True)
        pts = rng.uniform(-100, 600, (10, 2))
        np.testing.assert_allclose(td.apply_affine(td.apply_affine(pts, fwd), inv), pts, atol=1e-9)


def test_warp_image_samples_pixel_centres_like_cv2():
    # a linear ramp is reproduced exactly by bilinear sampling, so each output pixel must equal
    # the ramp at the inverse-mapped integer-centred position (cv2.warpAffine's convention)
    h, w = 120, 160
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    ramp = lambda x, y: 20 + 0.6 * x + 0.7 * y  # noqa: E731
    img = ramp(xs, ys).astype(np.float32)
    m = td.affine_matrix([80, 60], [0.5, 0.6], 25.0, (48, 64))
    out = td.warp_image(img, m, (48, 64)).astype(np.float64)
    as_uint8 = td.warp_image(np.round(img).astype(np.uint8), m, (48, 64)).astype(np.float64)
    inv = td.affine_matrix([80, 60], [0.5, 0.6], 25.0, (48, 64), inverse=True)
    oy, ox = np.mgrid[0:64, 0:48].astype(np.float64)
    src = td.apply_affine(np.stack([ox, oy], -1), inv)
    inside = (src[..., 0] > 1) & (src[..., 0] < w - 2) & (src[..., 1] > 1) & (src[..., 1] < h - 2)
    assert inside.sum() > 1000
    expected = ramp(src[..., 0], src[..., 1])[inside]
    np.testing.assert_allclose(out[inside], expected, atol=1e-3)
    # 8-bit images: Pillow truncates the interpolated value, so within 1.5 grey levels
    np.testing.assert_allclose(as_uint8[inside], expected, atol=1.5)
    # an integer translation moves a single bright pixel exactly
    dot = np.zeros((20, 20), np.uint8)
    dot[5, 7] = 200
    shifted = td.warp_image(dot, np.array([[1.0, 0, 3], [0, 1.0, 2]]), (20, 20))
    assert shifted[7, 10] == 200 and shifted.sum() == 200


@pytest.mark.parametrize(
    "input_size, heatmap_size, joints, pairs",
    [
        ((192, 256), (48, 64), 17, COCO_PAIRS),
        ((256, 256), (64, 64), 36, VERI_PAIRS),
        ((96, 128), (48, 64), 5, []),
    ],
)
def test_encode_decode_round_trip_within_quarter_pixel(input_size, heatmap_size, joints, pairs):
    codec = td.TopDownCodec(input_size, heatmap_size, sigma=2, flip_pairs=pairs)
    rng = np.random.default_rng(2)
    stride = np.array(input_size) / np.array(heatmap_size)
    for _ in range(10):
        # joints whose nearest heatmap pixel is inside the border, where refinement applies
        hm_xy = rng.uniform([1.5, 1.5], np.array(heatmap_size) - 2.5, (joints, 2))
        target, weight = codec.encode(hm_xy * stride, np.full(joints, 2))
        assert target.shape == (joints, heatmap_size[1], heatmap_size[0])
        np.testing.assert_array_equal(weight, 1)
        coords, maxvals = td.decode_heatmaps(target[None])
        assert np.abs(coords[0] - hm_xy).max() <= 0.25 + 1e-9
        assert np.all(maxvals > 0.88)  # peak of a Gaussian sampled within half a pixel
    # exact pixel centres come back exactly
    grid = np.array([[10.0, 20.0], [30.0, 5.0]])
    coords, _ = td.decode_heatmaps(codec.encode(grid * stride, [1, 2])[0][None])
    np.testing.assert_allclose(coords[0], grid)


def test_quantized_targets_match_reference_rounding():
    codec = td.TopDownCodec((192, 256), (48, 64), sigma=2, quantize=True)
    target, _ = codec.encode(np.array([[4 * 10.4, 4 * 20.6]]), [2])
    assert target[0, 21, 10] == pytest.approx(1.0)  # centre rounded to (10, 21)
    assert target[0, 21, 9] == pytest.approx(target[0, 21, 11])
    assert target[0, 21, 10 + 7] == 0 and target[0, 21, 10 + 6] > 0  # 3-sigma window


def test_target_weights_and_window():
    codec = td.TopDownCodec((192, 256), (48, 64), sigma=2)
    joints = np.array([[96.0, 128.0], [96.0, 128.0], [-40.0, 10.0], [190.0, 300.0], [-20.0, 100]])
    target, weight = codec.encode(joints, [2, 0, 1, 1, 1])
    # unlabelled -> 0; far outside -> 0; 5 px (heatmap) outside still touches the map -> 1
    np.testing.assert_array_equal(weight, [1, 0, 0, 0, 1])
    assert target[1].max() == 0 and target[2].max() == 0
    assert target[0, 32, 24] == pytest.approx(1.0)
    assert target[0, 32, 24 + 1] == pytest.approx(math.exp(-1 / 8))
    assert target[4, 25, 0] > 0


def test_decode_to_image_coordinates_round_trip():
    codec = td.TopDownCodec((192, 256), (48, 64), sigma=2, flip_pairs=COCO_PAIRS)
    rng = np.random.default_rng(3)
    box = [50.0, 40.0, 120.0, 260.0]
    center, scale = codec.box_to_center_scale(box)
    joints = rng.uniform([60, 60], [160, 280], (17, 2))
    _, in_xy = codec.crop(np.zeros((400, 300, 3), np.uint8), center, scale, 0.0, joints)
    target, _ = codec.encode(in_xy, np.full(17, 2))
    coords, maxvals = codec.decode(target[None], center[None], scale[None])
    hm_pixel = scale[0] * 200 / 48  # image pixels per heatmap pixel
    assert np.abs(coords[0] - joints).max() <= 0.25 * hm_pixel + 1e-6


def test_flip_joints_hand_worked_and_involution():
    joints = np.array([[10.0, 5.0], [20.0, 6.0], [30.0, 7.0]])
    vis = np.array([2, 1, 0])
    flipped, fvis = td.flip_joints(joints, vis, 100, [(1, 2)])
    np.testing.assert_allclose(flipped, [[89, 5], [69, 7], [79, 6]])
    np.testing.assert_array_equal(fvis, [2, 0, 1])
    back, bvis = td.flip_joints(flipped, fvis, 100, [(1, 2)])
    np.testing.assert_allclose(back, joints)
    np.testing.assert_array_equal(bvis, vis)


def test_flip_heatmaps_swaps_pairs_and_shift_reduces_bias():
    # test-time flip: the mirrored input has x' = W_in - 1 - x; after flipping its heatmaps back
    # the peak sits at x/4 - 0.75 without the shift and x/4 + 0.25 with it (stride 4)
    codec = td.TopDownCodec((192, 256), (48, 64), sigma=2, flip_pairs=COCO_PAIRS)
    rng = np.random.default_rng(4)
    joints = rng.uniform([20, 20], [170, 230], (17, 2))
    mirrored, mvis = td.flip_joints(joints, np.full(17, 2), 192, COCO_PAIRS)
    target, _ = codec.encode(mirrored, mvis)
    truth = joints / 4
    for shift, bias in ((True, 0.25), (False, -0.75)):
        back = td.flip_heatmaps(target[None], COCO_PAIRS, shift=shift)
        coords, _ = td.decode_heatmaps(back)
        dx = coords[0, :, 0] - truth[:, 0]
        assert np.abs(dx - bias).max() <= 0.25 + 1e-9
        assert np.abs(coords[0, :, 1] - truth[:, 1]).max() <= 0.25 + 1e-9
        assert abs(dx.mean() - bias) < 0.1


def test_decode_non_positive_maxima_and_border():
    hm = np.zeros((1, 2, 8, 8), np.float32)
    hm[0, 1, 0, 7] = 1.0  # corner peak: no refinement possible
    hm[0, 1, 0, 6] = 0.5
    coords, maxvals = td.decode_heatmaps(hm)
    np.testing.assert_allclose(coords[0], [[0, 0], [7, 0]])
    np.testing.assert_allclose(maxvals[0], [0, 1])


def test_draw_skeleton_marks_confident_joints_only():
    img = np.zeros((60, 80, 3), np.uint8)
    pose = np.array([[10.0, 10.0, 0.9], [50.0, 40.0, 0.9], [70.0, 10.0, 0.1]])
    out = np.asarray(td.draw_skeleton(img, [pose], [(0, 1), (1, 2)]))
    assert out[10, 10].sum() > 0 and out[40, 50].sum() > 0
    assert out[25, 30].sum() > 0  # on the 0-1 bone
    assert out[10, 70].sum() == 0 and out[25, 60].sum() == 0  # low-score joint, its bone
