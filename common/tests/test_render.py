"""posekit.mesh and posekit.render, checked against independent NumPy projections."""

import ctypes.util
import math
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

from posekit import mesh as pm

_PLATFORM = os.environ.get("PYOPENGL_PLATFORM", "osmesa")
_GL_LIB = "EGL" if _PLATFORM == "egl" else "OSMesa"
needs_gl = pytest.mark.skipif(
    ctypes.util.find_library(_GL_LIB) is None,
    reason=f"no lib{_GL_LIB} found for PYOPENGL_PLATFORM={_PLATFORM} "
    "(install Debian's libosmesa6; ci/setup.sh does this as root)",
)

W, H = 96, 72
K = np.array([[110.0, 0.0, 47.3], [0.0, 105.0, 35.8], [0.0, 0.0, 1.0]])


def rotation(axis, deg):
    """Rodrigues' formula, independent of posekit."""
    k = np.asarray(axis, float) / np.linalg.norm(axis)
    S = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    a = math.radians(deg)
    return np.eye(3) + math.sin(a) * S + (1 - math.cos(a)) * S @ S


def reference_raster(mesh, K, R, t, width, height):
    """NumPy z-buffer: coverage at pixel centres (integer u, v), perspective-correct z and xyz."""
    X = mesh.vertices.astype(np.float64)
    cam = X @ R.T + t
    proj = cam @ K.T
    px = proj[:, :2] / proj[:, 2:]
    depth = np.zeros((height, width))
    xyz = np.zeros((height, width, 3))
    for f in mesh.faces:
        p, z = px[f], cam[f, 2]
        lo = np.maximum(np.ceil(p.min(0)), 0).astype(int)
        hi = np.minimum(np.floor(p.max(0)), [width - 1, height - 1]).astype(int)
        if np.any(hi < lo):
            continue
        u, v = np.meshgrid(np.arange(lo[0], hi[0] + 1), np.arange(lo[1], hi[1] + 1))
        e1, e2 = p[1] - p[0], p[2] - p[0]
        area = e1[0] * e2[1] - e1[1] * e2[0]
        if abs(area) < 1e-12:
            continue
        du, dv = u - p[0, 0], v - p[0, 1]
        b1 = (du * e2[1] - dv * e2[0]) / area
        b2 = (e1[0] * dv - e1[1] * du) / area
        bary = np.stack([1 - b1 - b2, b1, b2], -1)
        inside = np.all(bary >= 0, -1)
        w = bary / z  # perspective-correct weights
        zz = 1.0 / w.sum(-1)
        cur = depth[v, u]
        take = inside & ((cur == 0) | (zz < cur))
        depth[v[take], u[take]] = zz[take]
        xyz[v[take], u[take]] = (zz[..., None] * (w @ X[f]))[take]
    return depth, xyz, depth > 0


def morph3x3(mask, op):
    """3x3 dilation (op=np.logical_or) or erosion (op=np.logical_and) without SciPy."""
    padded = np.pad(mask, 1, constant_values=op is np.logical_and)
    out = mask.copy()
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            out = op(out, padded[dy : dy + mask.shape[0], dx : dx + mask.shape[1]])
    return out


def border(mask):
    return morph3x3(mask, np.logical_or) & ~morph3x3(mask, np.logical_and)


@pytest.fixture(scope="module")
def renderer():
    from posekit.render import Renderer

    with Renderer(W, H) as r:
        yield r


# --------------------------------------------------------------------------------------------
# (a) vertices and a general mesh against NumPy projection


@needs_gl
def test_vertices_at_pixel_centres_have_their_depth_and_model_xyz(renderer):
    # A height field built by back-projecting pixel centres, so every vertex projects exactly
    # onto a pixel centre and is visible; then expressed in a model frame by an arbitrary pose.
    us, vs = np.meshgrid(np.arange(8, 89, 4), np.arange(6, 67, 4))
    z = 3.0 + 0.4 * np.sin(us / 13.0) * np.cos(vs / 9.0) + 0.01 * us
    rays = np.linalg.inv(K) @ np.stack([us.ravel(), vs.ravel(), np.ones(us.size)])
    cam = (rays * z.ravel()).T
    R = rotation([0.3, -1.0, 0.5], 35.0)
    t = np.array([0.2, -0.1, 0.4])
    model = (cam - t) @ R  # R^T (X_cam - t), row-wise
    rows, cols = us.shape
    idx = np.arange(us.size).reshape(rows, cols)
    a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, :-1], idx[1:, 1:]
    faces = np.concatenate([np.stack([a, b, d], -1), np.stack([a, d, c], -1)]).reshape(-1, 3)
    out = renderer.render(pm.Mesh(model, faces), K, R, t, 0.5, 10.0)

    # Independent projection of every vertex.
    p = (model @ R.T + t) @ K.T
    uv = p[:, :2] / p[:, 2:]
    pix = np.round(uv).astype(int)
    np.testing.assert_allclose(uv, pix, atol=1e-9)
    interior = ((us > 8) & (us < 88) & (vs > 6) & (vs < 66)).ravel()
    u, v = pix[interior, 0], pix[interior, 1]
    assert out.mask[v, u].all()
    np.testing.assert_allclose(out.depth[v, u], p[interior, 2], rtol=2e-6)
    np.testing.assert_allclose(out.xyz[v, u], model[interior], atol=2e-5)
    assert out.depth.dtype == np.float32 and out.xyz.dtype == np.float32


@needs_gl
def test_general_mesh_matches_numpy_rasteriser():
    from posekit.render import Renderer

    K_skew = np.array([[80.0, 0.6, 40.2], [0.0, 84.0, 29.7], [0.0, 0.0, 1.0]])
    mesh = pm.merge(
        [
            pm.sphere(0.5, 10, 20),
            pm.cylinder(0.2, 1.4, 12).transformed(rotation([1, 0, 0], 90), [0.3, 0, 0]),
        ]
    )
    R = rotation([1.0, 2.0, -0.5], 50.0)
    t = np.array([0.05, -0.1, 2.2])
    with Renderer(80, 60) as r:
        out = r.render(mesh, K_skew, R, t, 0.1, 10.0)
    depth, xyz, mask = reference_raster(mesh, K_skew, R, t, 80, 60)
    assert mask.sum() > 500
    assert not np.any((out.mask != mask) & ~border(mask))
    # Compare away from the silhouette and from occlusion edges (cylinder in front of the
    # sphere), where one pixel of coverage difference means a different surface.
    jump = np.zeros_like(mask)
    jump[:, 1:] |= np.abs(np.diff(depth, axis=1)) > 0.05
    jump[1:] |= np.abs(np.diff(depth, axis=0)) > 0.05
    inner = morph3x3(mask, np.logical_and) & ~morph3x3(jump, np.logical_or)
    assert inner.sum() > 0.6 * mask.sum()
    np.testing.assert_allclose(out.depth[inner], depth[inner], rtol=1e-5)
    np.testing.assert_allclose(out.xyz[inner], xyz[inner], atol=1e-5)
    assert set(np.unique(out.instance)) == {0, 1}
    np.testing.assert_array_equal(out.mask, out.instance > 0)


# --------------------------------------------------------------------------------------------
# (b) silhouettes


@needs_gl
def test_box_face_on_mask_matches_numpy_silhouette(renderer):
    size = np.array([0.9, 0.6, 0.5])
    t = np.array([0.1, -0.05, 3.0])
    out = renderer.render(pm.box(size), K, np.eye(3), t, 0.1, 10.0)
    # Centred on the optical axis within its width, so only the front face (z = t_z - sz/2)
    # bounds the silhouette.
    zf = t[2] - size[2] / 2
    u0, u1 = K[0, 2] + K[0, 0] * (t[0] + np.array([-1, 1]) * size[0] / 2) / zf
    v0, v1 = K[1, 2] + K[1, 1] * (t[1] + np.array([-1, 1]) * size[1] / 2) / zf
    u, v = np.meshgrid(np.arange(W), np.arange(H))
    expected = (u >= u0) & (u <= u1) & (v >= v0) & (v <= v1)
    assert expected.sum() > 300
    assert not np.any((out.mask != expected) & ~border(expected))
    np.testing.assert_allclose(out.depth[expected & ~border(expected)], zf, rtol=1e-6)


@needs_gl
def test_pixel_centre_convention_is_opencv(renderer):
    # Edges at half-integer pixel coordinates: no pixel centre is on an edge, so the mask is
    # exact; a half-pixel error in the convention would shift it by one column/row.
    zf = 2.0
    u0, u1, v0, v1 = 10.5, 30.5, 20.5, 41.5
    x = (np.array([u0, u1]) - K[0, 2]) * zf / K[0, 0]
    y = (np.array([v0, v1]) - K[1, 2]) * zf / K[1, 1]
    quad = pm.Mesh(
        [[x[0], y[0], zf], [x[1], y[0], zf], [x[1], y[1], zf], [x[0], y[1], zf]],
        [[0, 1, 2], [0, 2, 3]],
    )
    out = renderer.render(quad, K, np.eye(3), np.zeros(3), 0.1, 10.0)
    expected = np.zeros((H, W), bool)
    expected[21:42, 11:31] = True
    np.testing.assert_array_equal(out.mask, expected)


# --------------------------------------------------------------------------------------------
# (c) planes


@needs_gl
def test_fronto_parallel_plane_depth_is_exact(renderer):
    out = renderer.render(pm.plane(100, 100), K, np.eye(3), [0.3, 0.2, 7.25], 0.5, 50.0)
    assert out.mask.all()
    np.testing.assert_allclose(out.depth, 7.25, rtol=1e-6)
    # z-depth, not ray length: equal at the corners too.
    assert abs(out.depth[0, 0] - out.depth[H // 2, W // 2]) < 1e-5


@needs_gl
def test_tilted_plane_depth_is_z_along_the_optical_axis(renderer):
    R = rotation([1.0, 0.2, 0.0], 60.0)  # steep: depth changes fast across the image
    t = np.array([0.0, 0.0, 4.0])
    out = renderer.render(pm.plane(50, 50), K, R, t, 0.1, 100.0)
    n = R[:, 2]  # plane normal in the camera frame; the plane passes through t
    u, v = np.meshgrid(np.arange(W), np.arange(H))
    rays = np.linalg.inv(K) @ np.stack([u.ravel(), v.ravel(), np.ones(u.size)])
    z = ((n @ t) / (n @ rays)).reshape(H, W)  # rays have unit z, so the scale is the depth
    ok = out.mask & (z > 0.1) & (z < 100.0)
    assert ok.sum() > 0.5 * W * H
    np.testing.assert_allclose(out.depth[ok], z[ok], rtol=1e-5)
    # Half a pixel off would be far outside that tolerance here.
    slope = np.abs(np.diff(z, axis=0)).max() / z.max()
    assert slope > 100 * 1e-5
    X_cam = (rays.T * z.reshape(-1, 1)).reshape(H, W, 3)
    np.testing.assert_allclose(out.xyz[ok], ((X_cam - t) @ R)[ok], atol=1e-4)


# --------------------------------------------------------------------------------------------
# Colour, texture, shading, background, several objects


@needs_gl
def test_vertex_colours_unlit_and_lambert_shading(renderer):
    quad = pm.plane(10, 10, color=(0.2, 0.6, 1.0))
    R = np.diag([1.0, -1.0, -1.0])  # normal +z of the plane now faces the camera
    pose = (quad, K, R, [0, 0, 5.0], 0.1, 20.0)
    expected = np.array([0.2, 0.6, 1.0]) * 255
    unlit = renderer.render(*pose, unlit=True, ambient=0.1)
    np.testing.assert_allclose(
        unlit.rgb[unlit.mask], np.tile(expected, (unlit.mask.sum(), 1)), atol=1
    )
    for light, factor in (((0, 0, -1), 1.0), ((1, 0, 0), 0.3), ((0, math.sqrt(3), -1), 0.65)):
        out = renderer.render(*pose, light_dir=light, ambient=0.3)
        np.testing.assert_allclose(out.rgb[H // 2, W // 2], expected * factor, atol=1)
        # Seen from behind (normal away from the camera) it is lit the same: two-sided.
        back = renderer.render(
            quad, K, np.eye(3), [0, 0, 5.0], 0.1, 20.0, light_dir=light, ambient=0.3
        )
        np.testing.assert_array_equal(back.rgb[H // 2, W // 2], out.rgb[H // 2, W // 2])


@needs_gl
def test_texture_orientation_and_repeat(renderer):
    tex = np.zeros((64, 64, 3), np.uint8)
    tex[:32, :32] = (255, 0, 0)  # image top-left
    tex[:32, 32:] = (0, 255, 0)
    tex[32:, :32] = (0, 0, 255)
    tex[32:, 32:] = (255, 255, 0)
    R = np.diag([1.0, -1.0, -1.0])  # model +y is image up
    zf = 2.0
    size_x, size_y = 80 * zf / K[0, 0], 60 * zf / K[1, 1]  # 80 x 60 pixels, inside the image
    for repeat in (1, 2):
        quad = pm.plane(size_x, size_y, uv_repeat=(repeat, 1), texture=tex)
        out = renderer.render(quad, K, R, [0, 0, zf], 0.1, 10.0, unlit=True)
        cell = 80 / (2 * repeat)  # width of one texture quadrant in pixels
        left, top = K[0, 2] - 40, K[1, 2] - 30
        for qx in range(2 * repeat):
            for qy, row in ((0, 0), (1, 32)):
                col = 32 * (qx % 2)
                u = int(round(left + (qx + 0.5) * cell))
                v = int(round(top + (qy + 0.5) * 30))
                np.testing.assert_array_equal(
                    out.rgb[v, u], tex[row, col], err_msg=f"{repeat} {qx} {qy}"
                )


@needs_gl
def test_textured_colours_modulate_and_shading_applies(renderer):
    tex = np.full((4, 4, 3), 200, np.uint8)
    quad = pm.plane(10, 10, color=(0.5, 1.0, 1.0), texture=tex)
    R = np.diag([1.0, -1.0, -1.0])
    out = renderer.render(quad, K, R, [0, 0, 5.0], 0.1, 20.0, light_dir=(1, 0, 0), ambient=0.5)
    np.testing.assert_allclose(out.rgb[H // 2, W // 2], [50, 100, 100], atol=1)


@needs_gl
def test_scene_instances_occlusion_background_and_handle_reuse(renderer):
    back = renderer.upload(pm.box((1.0, 1.0, 1.0), color=(0, 0, 1)))
    front = pm.box((0.4, 0.4, 0.4), color=(1, 0, 0))
    bg = np.random.default_rng(0).integers(0, 256, (H, W, 3)).astype(np.uint8)
    Rf = rotation([0, 1, 0], 30)
    scene = [(back, np.eye(3), [0, 0, 5.0]), (front, Rf, [0.2, 0, 3.0])]
    out = renderer.render_scene(scene, K, 0.1, 20.0, bg_image=bg, unlit=True)
    solo = [renderer.render(o, K, R, t, 0.1, 20.0) for o, R, t in scene]
    np.testing.assert_array_equal(out.instance == 2, solo[1].mask)
    np.testing.assert_array_equal(out.instance == 1, solo[0].mask & ~solo[1].mask)
    np.testing.assert_array_equal(
        out.depth, np.where(out.instance == 2, solo[1].depth, solo[0].depth)
    )
    np.testing.assert_array_equal(
        out.xyz, np.where((out.instance == 2)[..., None], solo[1].xyz, solo[0].xyz)
    )
    np.testing.assert_array_equal(out.rgb[~out.mask], bg[~out.mask])
    assert (out.rgb[out.instance == 2] == (255, 0, 0)).all()
    assert (out.rgb[out.instance == 1] == (0, 0, 255)).all()
    # The uploaded handle renders again at a new pose: the silhouette moves with it.
    moved = renderer.render(back, K, np.eye(3), [0.5, 0, 5.0], 0.1, 20.0)
    shift = int(round(0.5 * K[0, 0] / 4.5))
    cols = np.flatnonzero(moved.mask.any(0))
    cols0 = np.flatnonzero(solo[0].mask.any(0))
    assert abs(cols[0] - cols0[0] - shift) <= 1 and abs(cols[-1] - cols0[-1] - shift) <= 1
    back.release()
    back.release()
    with pytest.raises(ValueError, match="released"):
        renderer.render(back, K, np.eye(3), [0, 0, 5.0], 0.1, 20.0)


@needs_gl
def test_back_face_culling_keeps_closed_meshes_and_drops_back_sides(renderer):
    R = rotation([1.0, -0.4, 0.3], 70.0)
    for closed in (pm.box((0.8, 0.5, 0.6)), pm.cylinder(0.3, 0.8, 24), pm.sphere(0.4, 12, 24)):
        both = renderer.render(closed, K, R, [0.1, 0, 3.0], 0.1, 10.0)
        culled = renderer.render(closed, K, R, [0.1, 0, 3.0], 0.1, 10.0, cull_back_faces=True)
        assert both.mask.sum() > 200
        np.testing.assert_array_equal(culled.mask, both.mask)
        # Where a back face ties with the front one at the silhouette, either may win unculled.
        np.testing.assert_allclose(culled.depth, both.depth, rtol=1e-3)
        assert np.any(culled.rgb != both.rgb, axis=2).sum() <= 0.01 * both.mask.sum()
    quad = pm.plane(2, 2)  # normal +z: with R = I it faces away from the camera
    front = renderer.render(
        quad, K, np.diag([1.0, -1, -1]), [0, 0, 3.0], 0.1, 10.0, cull_back_faces=True
    )
    back = renderer.render(quad, K, np.eye(3), [0, 0, 3.0], 0.1, 10.0, cull_back_faces=True)
    assert front.mask.sum() > 1000 and not back.mask.any()


@needs_gl
def test_background_colour_and_empty_frame(renderer):
    far_box = pm.box((1, 1, 1))
    out = renderer.render(far_box, K, np.eye(3), [0, 0, 50.0], 0.1, 20.0, bg_color=(0, 0.5, 1))
    assert not out.mask.any() and not out.depth.any() and not out.xyz.any()
    np.testing.assert_allclose(
        out.rgb.reshape(-1, 3), np.tile([0, 127.5, 255], (W * H, 1)), atol=0.6
    )


@needs_gl
def test_argument_errors(renderer):
    box = pm.box((1, 1, 1))
    with pytest.raises(ValueError, match="K"):
        renderer.render(box, K[:2], np.eye(3), [0, 0, 3], 0.1, 10)
    with pytest.raises(ValueError, match="near"):
        renderer.render(box, K, np.eye(3), [0, 0, 3], 1.0, 1.0)
    with pytest.raises(ValueError, match="rotation"):
        renderer.render(box, K, 2 * np.eye(3), [0, 0, 3], 0.1, 10)
    with pytest.raises(ValueError, match="bg_image"):
        renderer.render(box, K, np.eye(3), [0, 0, 3], 0.1, 10, bg_image=np.zeros((H, W, 3)))
    with pytest.raises(ValueError, match="bg_color"):
        renderer.render(box, K, np.eye(3), [0, 0, 3], 0.1, 10, bg_color=(0, 0, 255))
    with pytest.raises(TypeError, match="Mesh"):
        renderer.render("box", K, np.eye(3), [0, 0, 3], 0.1, 10)


@needs_gl
def test_two_renderers_and_close(renderer):
    from posekit.render import Renderer

    box = pm.box((1, 1, 1))
    K_small = np.diag([1 / 3, 1 / 3, 1]) @ K
    with Renderer(32, 24) as small:
        handle = small.upload(box)
        a = small.render(handle, K_small, np.eye(3), [0, 0, 3], 0.1, 10)
        b = renderer.render(box, K, np.eye(3), [0, 0, 3], 0.1, 10)  # switches context
        c = small.render(handle, K_small, np.eye(3), [0, 0, 3], 0.1, 10)
        assert a.mask.shape == (24, 32) and b.mask.shape == (H, W)
        np.testing.assert_array_equal(a.depth, c.depth)
        with pytest.raises(ValueError, match="another Renderer"):
            renderer.render(handle, K, np.eye(3), [0, 0, 3], 0.1, 10)
    assert small.closed and handle.released
    with pytest.raises(RuntimeError, match="closed"):
        small.render(box, K, np.eye(3), [0, 0, 3], 0.1, 10)
    small.close()
    assert "." in renderer.gl_version and renderer.gl_renderer


@needs_gl
def test_egl_platform_renders_the_same_plane():
    if ctypes.util.find_library("EGL") is None:
        pytest.skip("no libEGL")
    code = (
        "import numpy as np\n"
        "from posekit import mesh\n"
        "from posekit.render import Renderer\n"
        "try:\n"
        "    r = Renderer(16, 12)\n"
        "except RuntimeError as err:\n"
        "    print('NO-EGL', err); raise SystemExit(0)\n"
        "K = np.array([[20.0, 0, 7.5], [0, 20.0, 5.5], [0, 0, 1]])\n"
        "out = r.render(mesh.plane(10, 10), K, np.eye(3), [0, 0, 2.5], 0.1, 10)\n"
        "print(r.gl_renderer, float(out.depth.min()), float(out.depth.max()))\n"
    )
    env = dict(os.environ, PYOPENGL_PLATFORM="egl")
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True)
    assert res.returncode == 0, res.stderr.decode()
    text = res.stdout.decode()
    if text.startswith("NO-EGL"):
        pytest.skip(f"EGL context unavailable: {text.strip()}")
    lo, hi = map(float, text.split()[-2:])
    assert lo == pytest.approx(2.5, rel=1e-6) and hi == pytest.approx(2.5, rel=1e-6)


# --------------------------------------------------------------------------------------------
# (d) PLY round trip and BOP-style files


def full_mesh():
    m = pm.box((1.0, 2.0, 3.0), color=(0.2, 0.4, 0.6))
    tex = np.arange(8 * 6 * 3, dtype=np.uint8).reshape(8, 6, 3)
    return pm.Mesh(m.vertices, m.faces, m.colors, m.normals, m.uv, tex)


@pytest.mark.parametrize("text", [False, True])
def test_ply_round_trip(tmp_path, text):
    m = full_mesh()
    path = tmp_path / "obj_000001.ply"
    pm.save_ply(path, m, text=text)
    assert (tmp_path / "obj_000001.png").exists()
    back = pm.load_ply(path)
    np.testing.assert_allclose(back.vertices, m.vertices, atol=1e-6)
    np.testing.assert_array_equal(back.faces, m.faces)
    np.testing.assert_allclose(back.normals, m.normals, atol=1e-6)
    np.testing.assert_allclose(back.colors, np.round(m.colors * 255) / 255, atol=1e-6)
    np.testing.assert_allclose(back.uv, m.uv, atol=1e-6)
    np.testing.assert_array_equal(back.texture, m.texture)
    plain = pm.Mesh(m.vertices, m.faces)
    pm.save_ply(tmp_path / "plain.ply", plain, text=text)
    back = pm.load_ply(str(tmp_path / "plain.ply"))
    assert back.colors is None and back.normals is None and back.uv is None


def write_bop_binary(path, verts, normals, colors, faces, drop=()):
    props = [p for p in ("x", "y", "z", "nx", "ny", "nz") if p not in drop]
    header = ["ply", "format binary_little_endian 1.0", f"element vertex {len(verts)}"]
    header += [f"property float {p}" for p in props]
    header += [f"property uchar {c}" for c in ("red", "green", "blue")]
    header += [f"element face {len(faces)}", "property list uchar int vertex_indices", "end_header"]
    body = b""
    for v, n, c in zip(verts, normals, colors):
        values = dict(zip(("x", "y", "z", "nx", "ny", "nz"), list(v) + list(n)))
        body += struct.pack("<" + "f" * len(props), *[values[p] for p in props])
        body += struct.pack("<BBB", *c)
    for f in faces:
        body += struct.pack("<Biii", 3, *f)
    path.write_bytes(("\n".join(header) + "\n").encode() + body)


def test_reads_hand_written_bop_binary_ply(tmp_path):
    verts = np.array([[0, 0, 0], [10.5, 0, 0], [0, 20.25, 0], [0, 0, -30]], np.float32)
    normals = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, -1]], np.float32)
    colors = np.array([[255, 0, 0], [0, 128, 0], [0, 0, 7], [1, 2, 3]], np.uint8)
    faces = np.array([[0, 1, 2], [0, 2, 3], [0, 3, 1], [1, 3, 2]])
    path = tmp_path / "obj_000003.ply"
    write_bop_binary(path, verts, normals, colors, faces)
    m = pm.load_ply(path)
    np.testing.assert_array_equal(m.vertices, verts)
    np.testing.assert_array_equal(m.normals, normals)
    np.testing.assert_allclose(m.colors, colors / 255.0, atol=1e-7)
    np.testing.assert_array_equal(m.faces, faces)
    assert m.faces.dtype == np.int32 and m.vertices.dtype == np.float32 and m.uv is None


def test_ascii_polygons_with_per_face_texcoords(tmp_path):
    text = """ply
format ascii 1.0
comment TextureFile tex.png
element vertex 5
property float x
property float y
property float z
element face 2
property list uchar int vertex_indices
property list uchar float texcoord
end_header
0 0 0
1 0 0
1 1 0
0 1 0
2 0 0
4 0 1 2 3 8 0 0 1 0 1 1 0 1
3 1 4 2 6 0.5 0.5 0.75 0.5 0.75 0.75
"""
    (tmp_path / "quad.ply").write_text(text)
    from PIL import Image

    Image.fromarray(np.full((2, 2, 3), 9, np.uint8)).save(tmp_path / "tex.png")
    m = pm.load_ply(tmp_path / "quad.ply")
    # Quad -> 2 fan triangles, then 1 triangle; one vertex per face corner for its own uv.
    assert m.faces.shape == (3, 3) and len(m.vertices) == 9
    np.testing.assert_array_equal(m.faces, np.arange(9).reshape(3, 3))
    np.testing.assert_array_equal(
        m.vertices[:, :2], [[0, 0], [1, 0], [1, 1], [0, 0], [1, 1], [0, 1], [1, 0], [2, 0], [1, 1]]
    )
    np.testing.assert_allclose(m.uv[[0, 2, 5, 7]], [[0, 0], [1, 1], [0, 1], [0.75, 0.5]])
    assert m.texture.shape == (2, 2, 3) and m.texture[0, 0, 0] == 9


# --------------------------------------------------------------------------------------------
# (e) malformed files


def test_malformed_ply_errors_name_the_file_and_the_problem(tmp_path):
    verts = np.zeros((3, 3), np.float32)
    colors = np.zeros((3, 3), np.uint8)
    cases = {}
    garbage = tmp_path / "garbage.ply"
    garbage.write_bytes(b"this is not a ply file\n")
    cases[garbage] = "not a readable PLY"
    no_z = tmp_path / "no_z.ply"
    write_bop_binary(no_z, verts, verts, colors, [[0, 1, 2]], drop=("z",))
    cases[no_z] = "'z'"
    bad_index = tmp_path / "bad_index.ply"
    write_bop_binary(bad_index, verts, verts, colors, [[0, 1, 7]])
    cases[bad_index] = r"\[0, 3\)"
    truncated = tmp_path / "truncated.ply"
    write_bop_binary(truncated, verts, verts, colors, [[0, 1, 2]] * 4)
    truncated.write_bytes(truncated.read_bytes()[:-20])
    cases[truncated] = "not a readable PLY"
    no_faces = tmp_path / "no_faces.ply"
    no_faces.write_text(
        "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
        "property float z\nend_header\n0 0 0\n"
    )
    cases[no_faces] = "no 'face' element"
    no_tex = tmp_path / "no_tex.ply"
    no_tex.write_text(
        "ply\nformat ascii 1.0\ncomment TextureFile missing.png\nelement vertex 3\n"
        "property float x\nproperty float y\nproperty float z\nproperty float texture_u\n"
        "property float texture_v\nelement face 1\nproperty list uchar int vertex_indices\n"
        "end_header\n0 0 0 0 0\n1 0 0 1 0\n0 1 0 0 1\n3 0 1 2\n"
    )
    cases[no_tex] = "missing.png"
    for path, what in cases.items():
        with pytest.raises(pm.PlyFormatError, match=what) as info:
            pm.load_ply(path)
        assert str(path) in str(info.value), path


# --------------------------------------------------------------------------------------------
# Primitives and merge


def volume_and_outward(mesh):
    """Signed volume by the divergence theorem, and whether face winding agrees with normals."""
    tri = mesh.vertices.astype(np.float64)[mesh.faces]
    vol = np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() / 6
    face_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    vert_n = mesh.normals[mesh.faces].sum(1)
    return vol, bool(np.all(np.einsum("ij,ij->i", face_n, vert_n) > 0))


def test_primitives_are_closed_and_outward():
    vol, outward = volume_and_outward(pm.box((1.0, 2.0, 3.0)))
    assert vol == pytest.approx(6.0) and outward
    n = 64
    vol, outward = volume_and_outward(pm.cylinder(0.5, 2.0, n))
    assert vol == pytest.approx(0.5 * n * math.sin(2 * math.pi / n) * 0.25 * 2.0) and outward
    vol, outward = volume_and_outward(pm.sphere(1.0, 32, 64))
    assert vol == pytest.approx(4 / 3 * math.pi, rel=0.02) and outward
    assert len(pm.sphere(1.0, 50, 100).faces) == 2 * 100 * 49
    p = pm.plane(4, 2, uv_repeat=(3, 1))
    assert p.uv.max(0).tolist() == [3, 1] and np.allclose(p.normals, [0, 0, 1])


def test_merge_and_transform():
    a = pm.box((1, 1, 1), color=(1, 0, 0))
    b = pm.Mesh([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 1, 2]])
    m = pm.merge([a, b.transformed(rotation([0, 0, 1], 90), [0, 0, 5])])
    assert len(m.vertices) == 27 and m.faces[-1].tolist() == [24, 25, 26]
    np.testing.assert_allclose(m.vertices[25], [0, 1, 5], atol=1e-6)
    np.testing.assert_allclose(m.colors[24:], 1.0)
    np.testing.assert_allclose(m.normals[24:], [[0, 0, 1]] * 3, atol=1e-6)
    tex1 = np.zeros((2, 2, 3), np.uint8)
    with pytest.raises(ValueError, match="different textures"):
        pm.merge([pm.plane(1, 1, texture=tex1), pm.plane(1, 1, texture=tex1 + 1)])
    with pytest.raises(ValueError, match="without uv"):
        pm.merge([pm.plane(1, 1, texture=tex1), b])
    with pytest.raises(ValueError, match="faces"):
        pm.Mesh(np.zeros((3, 3)), [[0, 1, 3]])
