"""Triangle meshes: PLY input/output (BOP model files) and primitives for synthetic scenes.

Conventions:
- vertex colours are RGB floats in [0, 1]; a mesh without colours renders white (so a texture
  shows unmodulated);
- texture coordinates follow PLY/OBJ/BOP: (0, 0) is the bottom-left corner of the texture image,
  whose row 0 is its top row; coordinates outside [0, 1] repeat the texture;
- faces are triangles; PLY polygons with more vertices are split into triangle fans on load.
"""

from __future__ import annotations

import os
from typing import Optional, Sequence

import numpy as np
import plyfile
from PIL import Image


class PlyFormatError(ValueError):
    """A PLY file that cannot be read as a mesh; the message names the file and what is wrong."""


class Mesh:
    """Vertices (N, 3) float32, faces (M, 3) int32 and optional per-vertex attributes.

    colors (N, 3) in [0, 1], normals (N, 3), uv (N, 2), texture (H, W, 3) uint8 (needs uv).
    Arrays are converted and checked on construction; a bad shape or index raises ValueError.
    """

    def __init__(
        self,
        vertices,
        faces,
        colors=None,
        normals=None,
        uv=None,
        texture=None,
    ):
        self.vertices = _as_rows(vertices, 3, np.float32, "vertices")
        n = len(self.vertices)
        self.faces = _as_rows(faces, 3, np.int64, "faces")
        if len(self.faces) and (self.faces.min() < 0 or self.faces.max() >= n):
            raise ValueError(
                f"faces: vertex indices must lie in [0, {n}), got range "
                f"[{self.faces.min()}, {self.faces.max()}]"
            )
        self.faces = self.faces.astype(np.int32)
        self.colors = None if colors is None else _as_rows(colors, 3, np.float32, "colors", n)
        self.normals = None if normals is None else _as_rows(normals, 3, np.float32, "normals", n)
        self.uv = None if uv is None else _as_rows(uv, 2, np.float32, "uv", n)
        self.texture = None
        if texture is not None:
            if self.uv is None:
                raise ValueError("texture: a textured mesh needs per-vertex uv")
            tex = np.asarray(texture)
            if tex.ndim != 3 or tex.shape[2] != 3 or tex.dtype != np.uint8 or tex.size == 0:
                raise ValueError(
                    f"texture: expected a non-empty (H, W, 3) uint8 image, got shape "
                    f"{tex.shape} dtype {tex.dtype}"
                )
            self.texture = np.ascontiguousarray(tex)

    def __repr__(self) -> str:
        extras = [k for k in ("colors", "normals", "uv", "texture") if getattr(self, k) is not None]
        return f"Mesh({len(self.vertices)} vertices, {len(self.faces)} faces, {extras})"

    def vertex_normals(self) -> np.ndarray:
        """The stored normals, or area-weighted face normals averaged at each vertex.

        A vertex in no face (or only in degenerate faces) gets +z, so shading never divides by 0.
        """
        if self.normals is not None:
            return self.normals
        v = self.vertices.astype(np.float64)
        tri = v[self.faces]
        # The cross product's length is twice the triangle area: larger faces weigh more.
        face_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        acc = np.zeros_like(v)
        for k in range(3):
            np.add.at(acc, self.faces[:, k], face_n)
        length = np.linalg.norm(acc, axis=1, keepdims=True)
        out = np.where(length > 0, acc / np.maximum(length, 1e-300), [0.0, 0.0, 1.0])
        return out.astype(np.float32)

    def transformed(self, R, t) -> Mesh:
        """A copy with vertices mapped to R @ X + t (normals rotated); R must be a rotation."""
        R = np.asarray(R, dtype=np.float64).reshape(3, 3)
        t = np.asarray(t, dtype=np.float64).reshape(3)
        normals = None if self.normals is None else self.normals @ R.T
        return Mesh(
            self.vertices @ R.T + t, self.faces, self.colors, normals, self.uv, self.texture
        )

    def with_color(self, rgb: Sequence[float]) -> Mesh:
        """A copy whose every vertex has colour rgb (floats in [0, 1])."""
        colors = np.broadcast_to(np.asarray(rgb, dtype=np.float32), self.vertices.shape)
        return Mesh(self.vertices, self.faces, colors, self.normals, self.uv, self.texture)


def _as_rows(values, width: int, dtype, name: str, count: Optional[int] = None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.size == 0:
        arr = arr.reshape(0, width)
    if arr.ndim != 2 or arr.shape[1] != width:
        raise ValueError(f"{name}: expected an (N, {width}) array, got shape {arr.shape}")
    if count is not None and len(arr) != count:
        raise ValueError(f"{name}: expected one row per vertex ({count}), got {len(arr)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains non-finite values")
    return np.ascontiguousarray(arr, dtype=dtype)


# --------------------------------------------------------------------------------------------
# PLY


def load_ply(path) -> Mesh:
    """Read a binary or ASCII PLY triangle/polygon mesh, e.g. a BOP `obj_%06d.ply` model.

    Reads vertex x, y, z (required), nx, ny, nz, red, green, blue (uchar, scaled to [0, 1], or
    floats already in [0, 1]), texture_u, texture_v, and face vertex_indices (or vertex_index)
    with an optional per-face `texcoord` list (u0 v0 u1 v1 ...). Per-face texture coordinates
    give each face corner its own vertex. A `comment TextureFile NAME` header line loads NAME
    (relative to the PLY file) as the texture.
    """
    path = os.fspath(path)
    try:
        ply = plyfile.PlyData.read(path)
    except (plyfile.PlyParseError, ValueError, TypeError, IndexError, EOFError) as err:
        raise PlyFormatError(f"{path}: not a readable PLY file ({err})") from err

    def element(name: str):
        try:
            return ply[name]
        except KeyError:
            raise PlyFormatError(
                f"{path}: no '{name}' element (has: {[e.name for e in ply.elements]})"
            ) from None

    vertex, face = element("vertex"), element("face")
    vnames = set(vertex.data.dtype.names)

    def columns(names: Sequence[str], required: bool) -> Optional[np.ndarray]:
        missing = [n for n in names if n not in vnames]
        if not missing:
            return np.stack([vertex.data[n] for n in names], axis=1)
        if required or len(missing) < len(names):
            raise PlyFormatError(
                f"{path}: vertex element lacks propert{'y' if len(missing) == 1 else 'ies'} "
                f"{missing} (has: {sorted(vnames)})"
            )
        return None

    vertices = columns(("x", "y", "z"), True).astype(np.float64)
    normals = columns(("nx", "ny", "nz"), False)
    colors = columns(("red", "green", "blue"), False)
    if colors is not None:
        colors = colors / 255.0 if colors.dtype.kind in "ui" else colors.astype(np.float64)
    uv = columns(("texture_u", "texture_v"), False)

    fnames = face.data.dtype.names
    index_name = next((n for n in ("vertex_indices", "vertex_index") if n in fnames), None)
    if index_name is None:
        raise PlyFormatError(
            f"{path}: face element lacks property 'vertex_indices' (has: {list(fnames)})"
        )
    polygons = list(face.data[index_name])
    corner_uv = list(face.data["texcoord"]) if "texcoord" in fnames else None
    try:
        faces, face_uv = _triangulate(polygons, corner_uv)
    except ValueError as err:
        raise PlyFormatError(f"{path}: {err}") from None
    if len(faces) and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise PlyFormatError(
            f"{path}: face vertex_indices must lie in [0, {len(vertices)}), got range "
            f"[{faces.min()}, {faces.max()}]"
        )
    if face_uv is not None:
        # Per-corner uv: one new vertex per face corner, so each corner keeps its own uv.
        corners = faces.reshape(-1)
        vertices = vertices[corners]
        normals = None if normals is None else normals[corners]
        colors = None if colors is None else colors[corners]
        uv = face_uv
        faces = np.arange(len(corners)).reshape(-1, 3)

    texture = _read_texture(path, ply.comments) if uv is not None else None
    try:
        return Mesh(vertices, faces, colors, normals, uv, texture)
    except ValueError as err:
        raise PlyFormatError(f"{path}: {err}") from None


def _triangulate(polygons, corner_uv):
    """Fan-triangulate polygons in file order; returns (M, 3) faces and (3M, 2) uv or None."""
    if not polygons:
        return np.zeros((0, 3), np.int64), (None if corner_uv is None else np.zeros((0, 2)))
    sizes = np.array([len(p) for p in polygons])
    if sizes.min() < 3:
        bad = int(np.argmin(sizes))
        raise ValueError(f"face {bad} has {sizes[bad]} vertices, expected at least 3")
    # Polygon i with n corners starting at flat[s] gives triangles (s, s+k, s+k+1), k = 1..n-2.
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    n_tris = sizes - 2
    poly_of_tri = np.repeat(np.arange(len(sizes)), n_tris)
    first_tri = np.concatenate([[0], np.cumsum(n_tris)[:-1]])
    k = np.arange(len(poly_of_tri)) - first_tri[poly_of_tri] + 1
    s = starts[poly_of_tri]
    corners = np.stack([s, s + k, s + k + 1], axis=1)
    faces = np.concatenate(polygons).astype(np.int64)[corners]
    if corner_uv is None:
        return faces, None
    uv_sizes = np.array([len(c) for c in corner_uv])
    bad = np.flatnonzero(uv_sizes != 2 * sizes)
    if len(bad):
        i = int(bad[0])
        raise ValueError(
            f"face {i}: texcoord has {uv_sizes[i]} values, expected 2 per vertex ({2 * sizes[i]})"
        )
    flat_uv = np.concatenate(corner_uv).astype(np.float64).reshape(-1, 2)
    return faces, flat_uv[corners.reshape(-1)]


def _read_texture(path: str, comments: Sequence[str]) -> Optional[np.ndarray]:
    for comment in comments:
        parts = comment.split(None, 1)
        if len(parts) == 2 and parts[0] == "TextureFile":
            tex_path = os.path.join(os.path.dirname(path), parts[1].strip())
            if not os.path.isfile(tex_path):
                raise PlyFormatError(
                    f"{path}: texture file {tex_path} named in the header is missing"
                )
            with Image.open(tex_path) as img:
                return np.asarray(img.convert("RGB"))
    return None


def save_ply(path, mesh: Mesh, text: bool = False) -> None:
    """Write mesh as PLY (binary little-endian unless text=True) in the BOP property layout.

    Colours are stored as uchar red/green/blue, uv as texture_u/texture_v; a texture is written
    beside the file as `<stem>.png` and named by a `comment TextureFile` line.
    """
    path = os.fspath(path)
    fields = [("x", "f4"), ("y", "f4"), ("z", "f4")]
    columns = [mesh.vertices]
    if mesh.normals is not None:
        fields += [("nx", "f4"), ("ny", "f4"), ("nz", "f4")]
        columns.append(mesh.normals)
    if mesh.colors is not None:
        fields += [("red", "u1"), ("green", "u1"), ("blue", "u1")]
        columns.append(np.clip(np.round(mesh.colors * 255.0), 0, 255))
    if mesh.uv is not None:
        fields += [("texture_u", "f4"), ("texture_v", "f4")]
        columns.append(mesh.uv)
    vertex = np.empty(len(mesh.vertices), dtype=fields)
    names = [name for name, _ in fields]
    for col, name in zip(np.concatenate(columns, axis=1).T, names):
        vertex[name] = col
    face = np.empty(len(mesh.faces), dtype=[("vertex_indices", "i4", (3,))])
    face["vertex_indices"] = mesh.faces
    comments = []
    if mesh.texture is not None:
        tex_name = os.path.splitext(os.path.basename(path))[0] + ".png"
        Image.fromarray(mesh.texture).save(os.path.join(os.path.dirname(path), tex_name))
        comments.append("TextureFile " + tex_name)
    elements = [
        plyfile.PlyElement.describe(vertex, "vertex"),
        plyfile.PlyElement.describe(face, "face", len_types={"vertex_indices": "u1"}),
    ]
    plyfile.PlyData(elements, text=text, byte_order="<", comments=comments).write(path)


# --------------------------------------------------------------------------------------------
# Primitives (all centred at the origin; place them with Mesh.transformed)


def _finish(vertices, faces, normals, uv, color, texture) -> Mesh:
    colors = None if color is None else np.tile(np.asarray(color, np.float32), (len(vertices), 1))
    return Mesh(vertices, faces, colors, normals, uv, texture)


def box(size: Sequence[float], color=None, texture=None) -> Mesh:
    """Axis-aligned box with extents size = (sx, sy, sz): 6 flat-shaded faces, each with uv
    spanning [0, 1]^2, outward normals and counter-clockwise winding seen from outside."""
    half = np.asarray(size, dtype=np.float64).reshape(3) / 2.0
    vertices, normals, faces = [], [], []
    for axis in range(3):
        for sign in (1.0, -1.0):
            # (u_axis, v_axis) chosen so that u x v points along the outward normal.
            u_axis, v_axis = (axis + 1) % 3, (axis + 2) % 3
            if sign < 0:
                u_axis, v_axis = v_axis, u_axis
            n = np.zeros(3)
            n[axis] = sign
            base = len(vertices)
            for du, dv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                p = n * half
                p[u_axis] = du * half[u_axis]
                p[v_axis] = dv * half[v_axis]
                vertices.append(p)
                normals.append(n)
            faces += [[base, base + 1, base + 2], [base, base + 2, base + 3]]
    uv = np.tile([[0, 0], [1, 0], [1, 1], [0, 1]], (6, 1))
    return _finish(vertices, faces, normals, uv, color, texture)


def plane(size_x: float, size_y: float, uv_repeat=(1.0, 1.0), color=None, texture=None) -> Mesh:
    """Rectangle in the z = 0 plane, normal +z, uv from (0, 0) at (-x, -y) to uv_repeat at
    (+x, +y): a repeat above 1 tiles the texture (e.g. a road surface)."""
    hx, hy = size_x / 2.0, size_y / 2.0
    ru, rv = uv_repeat
    vertices = [[-hx, -hy, 0], [hx, -hy, 0], [hx, hy, 0], [-hx, hy, 0]]
    uv = [[0, 0], [ru, 0], [ru, rv], [0, rv]]
    normals = np.tile([0.0, 0.0, 1.0], (4, 1))
    return _finish(vertices, [[0, 1, 2], [0, 2, 3]], normals, uv, color, texture)


def cylinder(radius: float, height: float, segments: int = 32, color=None, texture=None) -> Mesh:
    """Closed cylinder along z from -height/2 to +height/2: smooth sides, flat caps.

    Side uv: u goes once around (seam vertices duplicated), v from 0 at the bottom to 1 at the
    top; cap uv maps the disc into [0, 1]^2.
    """
    if segments < 3:
        raise ValueError(f"cylinder: segments must be >= 3, got {segments}")
    angles = np.linspace(0.0, 2.0 * np.pi, segments + 1)
    ring = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    hz = height / 2.0
    # Sides: rows of segments+1 vertices at the bottom, then the top.
    side_v = np.concatenate([np.c_[radius * ring, np.full(segments + 1, z)] for z in (-hz, hz)])
    side_n = np.concatenate([np.c_[ring, np.zeros(segments + 1)]] * 2)
    side_uv = np.concatenate(
        [np.c_[angles / (2 * np.pi), np.full(segments + 1, v)] for v in (0, 1)]
    )
    k = np.arange(segments)
    top = k + segments + 1
    side_f = np.concatenate([np.c_[k, k + 1, top + 1], np.c_[k, top + 1, top]])
    parts_v, parts_n, parts_uv, parts_f = [side_v], [side_n], [side_uv], [side_f]
    base = len(side_v)
    for z, sign in ((hz, 1.0), (-hz, -1.0)):
        cap_v = np.concatenate([[[0.0, 0.0, z]], np.c_[radius * ring[:-1], np.full(segments, z)]])
        cap_uv = np.concatenate([[[0.5, 0.5]], 0.5 + 0.5 * ring[:-1]])
        rim = base + 1 + k
        nxt = base + 1 + (k + 1) % segments
        centre = np.full(segments, base)
        cap_f = np.c_[centre, rim, nxt] if sign > 0 else np.c_[centre, nxt, rim]
        parts_v.append(cap_v)
        parts_n.append(np.tile([0.0, 0.0, sign], (segments + 1, 1)))
        parts_uv.append(cap_uv)
        parts_f.append(cap_f)
        base += segments + 1
    return _finish(
        np.concatenate(parts_v),
        np.concatenate(parts_f),
        np.concatenate(parts_n),
        np.concatenate(parts_uv),
        color,
        texture,
    )


def sphere(radius: float, rings: int = 16, segments: int = 32, color=None, texture=None) -> Mesh:
    """UV sphere: rings latitude bands x segments longitude bands, 2 * segments * (rings - 1)
    triangles; uv is (longitude, latitude) in [0, 1] with v = 1 at the +z pole."""
    if rings < 2 or segments < 3:
        raise ValueError(f"sphere: need rings >= 2 and segments >= 3, got {rings}, {segments}")
    theta = np.linspace(0.0, np.pi, rings + 1)  # from the +z pole down
    phi = np.linspace(0.0, 2.0 * np.pi, segments + 1)
    th, ph = np.meshgrid(theta, phi, indexing="ij")
    normals = np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], -1)
    uv = np.stack([ph / (2 * np.pi), 1.0 - th / np.pi], -1).reshape(-1, 2)
    idx = np.arange((rings + 1) * (segments + 1)).reshape(rings + 1, segments + 1)
    a, b = idx[:-1, :-1], idx[:-1, 1:]
    c, d = idx[1:, :-1], idx[1:, 1:]
    # In the first band a and b are both the +z pole, in the last c and d the -z pole: drop
    # the triangle of each quad there that would have zero area.
    upper = np.stack([a, c, d], -1)[:-1].reshape(-1, 3)
    lower = np.stack([a, d, b], -1)[1:].reshape(-1, 3)
    faces = np.concatenate([upper, lower])
    normals = normals.reshape(-1, 3)
    return _finish(radius * normals, faces, normals, uv, color, texture)


def merge(meshes: Sequence[Mesh]) -> Mesh:
    """One mesh holding all of meshes (e.g. a scene's static parts, uploaded once).

    Missing colours become white and missing normals are computed, so parts may differ in what
    they carry. Textured parts must all share one texture image and every part must then have
    uv: to combine different textures, render the parts as separate objects in one frame.
    """
    meshes = list(meshes)
    if not meshes:
        raise ValueError("merge: needs at least one mesh")
    textures = [m.texture for m in meshes if m.texture is not None]
    texture = textures[0] if textures else None
    for tex in textures[1:]:
        if tex is not texture and (tex.shape != texture.shape or not np.array_equal(tex, texture)):
            raise ValueError(
                "merge: parts have different textures; render them as separate objects instead"
            )
    has_uv = [m.uv is not None for m in meshes]
    if texture is not None and not all(has_uv):
        raise ValueError("merge: a textured mesh cannot include parts without uv")
    offsets = np.cumsum([0] + [len(m.vertices) for m in meshes[:-1]])
    faces = np.concatenate([m.faces.astype(np.int64) + off for m, off in zip(meshes, offsets)])

    def stack(get, default):
        if all(get(m) is None for m in meshes):
            return None
        return np.concatenate([default(m) if get(m) is None else get(m) for m in meshes])

    colors = stack(lambda m: m.colors, lambda m: np.ones_like(m.vertices))
    normals = stack(lambda m: m.normals, lambda m: m.vertex_normals())
    uv = np.concatenate([m.uv for m in meshes]) if all(has_uv) else None
    vertices = np.concatenate([m.vertices for m in meshes])
    return Mesh(vertices, faces, colors, normals, uv, texture)
