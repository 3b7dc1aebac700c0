"""Offscreen OpenGL renderer: RGB, z-depth, mask, object coordinates and instance ids.

Camera convention is OpenCV's: x right, y down, z forward; a model point X maps to the camera as
X_cam = R @ X + t and to pixel (u, v) = (fx x/z + s y/z + cx, fy y/z + cy) with pixel centres at
integer coordinates. Depth is z along the optical axis (not the ray length) in the units of t.

The context is OSMesa (CPU, llvmpipe) unless PYOPENGL_PLATFORM=egl (GPU or Mesa's software EGL
device). PyOpenGL fixes its platform at first import, so this module sets PYOPENGL_PLATFORM to
"osmesa" when it is unset, before importing OpenGL; import it before anything else imports
OpenGL, or set the variable yourself.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple, Union

os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")

import numpy as np  # noqa: E402

PLATFORM = os.environ["PYOPENGL_PLATFORM"]
try:
    from OpenGL import GL
except (ImportError, AttributeError) as err:
    # PyOpenGL 3.1.7 without the platform's library fails with ImportError or, for OSMesa,
    # AttributeError ('NoneType' object has no attribute 'glGetError').
    raise ImportError(
        f"posekit.render: cannot load OpenGL for PYOPENGL_PLATFORM={PLATFORM} ({err}); install "
        "PyOpenGL and, for osmesa, the OSMesa library (Debian/Ubuntu: apt-get install "
        "libosmesa6), or for egl a GPU driver's libEGL (or Debian's libegl1)"
    ) from err

from posekit.mesh import Mesh  # noqa: E402

MIN_GL_VERSION = (3, 3)
MAX_INSTANCES = 65535  # instance ids are stored as uint16; 0 is the background

# Colour attachments, one per fragment shader output: (internal format, readback format and
# type, NumPy dtype, channels read). Each output has its own attachment and is read with exactly
# its channels, so glReadPixels writes the final contiguous arrays: slicing RGB out of RGBA in
# NumPy cost more than the readback itself (about 5 ms per frame at 640x480 on llvmpipe).
_ATTACHMENTS = (
    (GL.GL_RGBA8, GL.GL_RGB, GL.GL_UNSIGNED_BYTE, np.uint8, 3),  # colour
    (
        GL.GL_RGBA32F,
        GL.GL_RGB,
        GL.GL_FLOAT,
        np.float32,
        3,
    ),  # model xyz; RGB32F need not be renderable
    (GL.GL_R32F, GL.GL_RED, GL.GL_FLOAT, np.float32, 1),  # z-depth
    (GL.GL_R16UI, GL.GL_RED_INTEGER, GL.GL_UNSIGNED_SHORT, np.uint16, 1),  # instance id
)

_VERTEX_SHADER = """
#version 330 core
layout(location = 0) in vec3 a_position;
layout(location = 1) in vec3 a_normal;
layout(location = 2) in vec3 a_color;
layout(location = 3) in vec2 a_uv;
uniform mat4 u_model_view;  // [R t; 0 1]
uniform mat4 u_projection;
out vec3 v_model_xyz;
out vec3 v_cam_pos;
out vec3 v_normal;
out vec3 v_color;
out vec2 v_uv;
void main() {
    vec4 cam = u_model_view * vec4(a_position, 1.0);
    v_model_xyz = a_position;
    v_cam_pos = cam.xyz;
    v_normal = mat3(u_model_view) * a_normal;  // R is a rotation, so it maps normals too
    v_color = a_color;
    v_uv = a_uv;
    gl_Position = u_projection * cam;
}
"""

_FRAGMENT_SHADER = """
#version 330 core
in vec3 v_model_xyz;
in vec3 v_cam_pos;
in vec3 v_normal;
in vec3 v_color;
in vec2 v_uv;
uniform bool u_textured;
uniform sampler2D u_texture;
uniform bool u_unlit;
uniform vec3 u_light_dir;  // unit vector from the surface towards the light, camera frame
uniform float u_ambient;
uniform uint u_instance;
layout(location = 0) out vec4 o_color;
layout(location = 1) out vec4 o_xyz;
layout(location = 2) out float o_depth;
layout(location = 3) out uint o_instance;
void main() {
    vec3 albedo = v_color;
    // uv has its origin at the image's bottom-left; the texture was uploaded top row first.
    if (u_textured) albedo *= texture(u_texture, vec2(v_uv.x, 1.0 - v_uv.y)).rgb;
    vec3 rgb = albedo;
    if (!u_unlit) {
        float len = length(v_normal);
        vec3 n = len > 0.0 ? v_normal / len : -normalize(v_cam_pos);
        // Two-sided lighting: model winding and normal orientation vary (BOP scans), so the
        // normal is turned to face the camera.
        if (dot(n, v_cam_pos) > 0.0) n = -n;
        rgb = albedo * (u_ambient + (1.0 - u_ambient) * max(dot(n, u_light_dir), 0.0));
    }
    o_color = vec4(rgb, 1.0);
    o_xyz = vec4(v_model_xyz, 0.0);
    o_depth = v_cam_pos.z;
    o_instance = u_instance;
}
"""


@dataclass
class RenderOutput:
    """One rendered frame; background pixels have depth 0, xyz 0, instance 0, mask False."""

    rgb: np.ndarray  # (H, W, 3) uint8
    depth: np.ndarray  # (H, W) float32, z in the units of t
    mask: np.ndarray  # (H, W) bool, any object visible
    xyz: np.ndarray  # (H, W, 3) float32, model-frame coordinates of the visible surface
    instance: np.ndarray  # (H, W) uint16, 1 + index of the visible object in the scene list


class MeshHandle:
    """A mesh uploaded to a Renderer (vertex/index buffers and texture); reuse it across frames.

    Valid until release() or the renderer's close().
    """

    def __init__(self, renderer: Renderer, mesh: Mesh):
        self._renderer = renderer
        self.n_vertices = len(mesh.vertices)
        self.n_faces = len(mesh.faces)
        colors = mesh.colors if mesh.colors is not None else np.ones_like(mesh.vertices)
        uv = mesh.uv if mesh.uv is not None else np.zeros((self.n_vertices, 2), np.float32)
        # Interleaved position, normal, colour, uv: one buffer, one bind per draw.
        data = np.ascontiguousarray(
            np.concatenate([mesh.vertices, mesh.vertex_normals(), colors, uv], axis=1),
            dtype=np.float32,
        )
        self.vao = GL.glGenVertexArrays(1)
        GL.glBindVertexArray(self.vao)
        self.vbo = GL.glGenBuffers(1)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.vbo)
        GL.glBufferData(GL.GL_ARRAY_BUFFER, data.nbytes, data, GL.GL_STATIC_DRAW)
        stride = data.shape[1] * 4
        offset = 0
        for location, width in enumerate((3, 3, 3, 2)):
            GL.glEnableVertexAttribArray(location)
            GL.glVertexAttribPointer(
                location, width, GL.GL_FLOAT, GL.GL_FALSE, stride, ctypes.c_void_p(offset)
            )
            offset += width * 4
        indices = np.ascontiguousarray(mesh.faces, dtype=np.uint32)
        self.ebo = GL.glGenBuffers(1)
        GL.glBindBuffer(GL.GL_ELEMENT_ARRAY_BUFFER, self.ebo)
        GL.glBufferData(GL.GL_ELEMENT_ARRAY_BUFFER, indices.nbytes, indices, GL.GL_STATIC_DRAW)
        GL.glBindVertexArray(0)
        self.texture = None
        if mesh.texture is not None:
            self.texture = GL.glGenTextures(1)
            GL.glBindTexture(GL.GL_TEXTURE_2D, self.texture)
            GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
            height, width = mesh.texture.shape[:2]
            GL.glTexImage2D(
                GL.GL_TEXTURE_2D, 0, GL.GL_RGB8, width, height, 0, GL.GL_RGB,
                GL.GL_UNSIGNED_BYTE, mesh.texture,
            )  # fmt: skip
            # Mipmaps: street textures are seen at grazing angles, where they would alias.
            GL.glGenerateMipmap(GL.GL_TEXTURE_2D)
            GL.glTexParameteri(
                GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, GL.GL_LINEAR_MIPMAP_LINEAR
            )
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, GL.GL_LINEAR)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_S, GL.GL_REPEAT)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_T, GL.GL_REPEAT)
            GL.glBindTexture(GL.GL_TEXTURE_2D, 0)

    @property
    def released(self) -> bool:
        return self.vao is None

    def release(self) -> None:
        """Free the GPU buffers; calling it again does nothing."""
        if self.released:
            return
        if not self._renderer.closed:
            self._renderer._make_current()
            GL.glDeleteVertexArrays(1, [self.vao])
            GL.glDeleteBuffers(2, [self.vbo, self.ebo])
            if self.texture is not None:
                GL.glDeleteTextures(1, [self.texture])
        self._renderer._handles.discard(self)
        self.vao = self.vbo = self.ebo = self.texture = None


SceneObject = Tuple[Union[Mesh, MeshHandle], np.ndarray, np.ndarray]


class Renderer:
    """Offscreen renderer of a fixed image size; use as a context manager or call close().

    Attributes gl_version, gl_renderer and gl_vendor report the context actually created.
    egl_device (EGL only) picks a device by index; by default the first one that is not Mesa's
    software device, so a GPU is used when there is one.
    """

    def __init__(self, width: int, height: int, egl_device: Optional[int] = None):
        if width <= 0 or height <= 0:
            raise ValueError(f"Renderer: width and height must be positive, got {width}x{height}")
        self.width, self.height = int(width), int(height)
        self._handles = set()
        self._context = None
        if PLATFORM == "osmesa":
            self._context = _OSMesaContext()
        elif PLATFORM == "egl":
            self._context = _EGLContext(egl_device)
        else:
            raise RuntimeError(
                f"posekit.render needs PYOPENGL_PLATFORM=osmesa or egl, got {PLATFORM!r} "
                "(set it before anything imports OpenGL)"
            )
        try:
            self._init_gl()
        except Exception:
            self._context.destroy()
            self._context = None
            raise

    # -- setup ---------------------------------------------------------------------------------

    def _init_gl(self) -> None:
        self.gl_version = GL.glGetString(GL.GL_VERSION).decode()
        self.gl_renderer = GL.glGetString(GL.GL_RENDERER).decode()
        self.gl_vendor = GL.glGetString(GL.GL_VENDOR).decode()
        got = (GL.glGetIntegerv(GL.GL_MAJOR_VERSION), GL.glGetIntegerv(GL.GL_MINOR_VERSION))
        if tuple(int(v) for v in got) < MIN_GL_VERSION:
            raise RuntimeError(
                f"OpenGL {MIN_GL_VERSION[0]}.{MIN_GL_VERSION[1]} core is needed, the "
                f"{PLATFORM} context gives {self.gl_version} ({self.gl_renderer})"
            )
        self._program = _link_program(_VERTEX_SHADER, _FRAGMENT_SHADER)
        self._uniforms = {
            name: GL.glGetUniformLocation(self._program, name)
            for name in (
                "u_model_view", "u_projection", "u_textured", "u_texture", "u_unlit",
                "u_light_dir", "u_ambient", "u_instance",
            )
        }  # fmt: skip
        self._fbo = GL.glGenFramebuffers(1)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._fbo)
        formats = [a[0] for a in _ATTACHMENTS] + [GL.GL_DEPTH_COMPONENT32F]
        self._renderbuffers = [int(rb) for rb in GL.glGenRenderbuffers(len(formats))]
        for i, (rb, fmt) in enumerate(zip(self._renderbuffers, formats)):
            GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, rb)
            GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, fmt, self.width, self.height)
            last = i == len(_ATTACHMENTS)
            attachment = GL.GL_DEPTH_ATTACHMENT if last else GL.GL_COLOR_ATTACHMENT0 + i
            GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, attachment, GL.GL_RENDERBUFFER, rb)
        status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
        if status != GL.GL_FRAMEBUFFER_COMPLETE:
            raise RuntimeError(f"offscreen framebuffer incomplete (status 0x{int(status):x})")
        n = len(_ATTACHMENTS)
        GL.glDrawBuffers(n, [GL.GL_COLOR_ATTACHMENT0 + i for i in range(n)])
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDepthFunc(GL.GL_LESS)
        # The projection flips y (image rows run down), which turns triangles that are
        # counter-clockwise seen from outside (PLY/BOP convention) clockwise on screen.
        GL.glFrontFace(GL.GL_CW)
        GL.glDisable(GL.GL_DITHER)  # outputs must be exact
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
        GL.glUseProgram(self._program)
        GL.glUniform1i(self._uniforms["u_texture"], 0)

    @property
    def closed(self) -> bool:
        return self._context is None

    def _make_current(self) -> None:
        if self.closed:
            raise RuntimeError("Renderer is closed")
        self._context.make_current()

    def close(self) -> None:
        """Free every uploaded mesh, the framebuffer and the context; safe to call twice."""
        if self.closed:
            return
        self._make_current()
        for handle in list(self._handles):
            handle.release()
        GL.glDeleteFramebuffers(1, [self._fbo])
        GL.glDeleteRenderbuffers(len(self._renderbuffers), self._renderbuffers)
        GL.glDeleteProgram(self._program)
        self._context.destroy()
        self._context = None

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- meshes --------------------------------------------------------------------------------

    def upload(self, mesh: Mesh) -> MeshHandle:
        """Copy mesh to the GPU once, for rendering many frames of it."""
        if not isinstance(mesh, Mesh):
            raise TypeError(f"upload: expected a posekit.mesh.Mesh, got {type(mesh).__name__}")
        self._make_current()
        handle = MeshHandle(self, mesh)
        self._handles.add(handle)
        return handle

    # -- rendering -----------------------------------------------------------------------------

    def render(
        self,
        mesh: Union[Mesh, MeshHandle],
        K,
        R,
        t,
        near: float,
        far: float,
        light_dir: Sequence[float] = (0.0, 0.0, -1.0),
        ambient: float = 0.5,
        unlit: bool = False,
        bg_color: Sequence[float] = (0.0, 0.0, 0.0),
        bg_image: Optional[np.ndarray] = None,
        cull_back_faces: bool = False,
    ) -> RenderOutput:
        """Render one mesh at model-to-camera pose (R, t); see render_scene."""
        return self.render_scene(
            [(mesh, R, t)],
            K,
            near,
            far,
            light_dir=light_dir,
            ambient=ambient,
            unlit=unlit,
            bg_color=bg_color,
            bg_image=bg_image,
            cull_back_faces=cull_back_faces,
        )

    def render_scene(
        self,
        objects: Sequence[SceneObject],
        K,
        near: float,
        far: float,
        light_dir: Sequence[float] = (0.0, 0.0, -1.0),
        ambient: float = 0.5,
        unlit: bool = False,
        bg_color: Sequence[float] = (0.0, 0.0, 0.0),
        bg_image: Optional[np.ndarray] = None,
        cull_back_faces: bool = False,
    ) -> RenderOutput:
        """Render objects = [(mesh or handle, R, t), ...], each with its own model-to-camera
        pose, into one frame; instance k+1 marks the pixels where objects[k] is visible.

        K: 3x3 intrinsics. near, far: clipping distances along z (units of t).
        Shading is colour * (ambient + (1 - ambient) * max(n . light_dir, 0)), light_dir being
        the direction from the surface towards a distant light in the camera frame (default: a
        headlight); unlit=True gives the plain vertex colour (times the texture).
        bg_color: RGB floats in [0, 1]; bg_image: (H, W, 3) uint8, drawn behind the objects.
        cull_back_faces: skip triangles whose outside (counter-clockwise winding seen from
        outside) faces away from the camera. For closed, consistently wound meshes the image is
        the same and rasterisation about twice as fast; other meshes would show holes, so it is
        off by default (and surfaces are lit from both sides).
        Meshes passed as Mesh are uploaded for this call only: upload() them to reuse.
        """
        self._make_current()
        projection = _projection(K, self.width, self.height, near, far)
        light = np.asarray(light_dir, dtype=np.float64).reshape(3)
        if not np.linalg.norm(light) > 0:
            raise ValueError(f"light_dir must be a non-zero 3-vector, got {light_dir!r}")
        if not 0.0 <= ambient <= 1.0:
            raise ValueError(f"ambient must lie in [0, 1], got {ambient}")
        bg = np.asarray(bg_color, dtype=np.float32)
        if bg.shape != (3,) or not np.all((bg >= 0) & (bg <= 1)):
            raise ValueError(f"bg_color: expected 3 floats in [0, 1], got {bg_color!r}")
        if bg_image is not None:
            bg_image = np.asarray(bg_image)
            if bg_image.shape != (self.height, self.width, 3) or bg_image.dtype != np.uint8:
                raise ValueError(
                    f"bg_image: expected ({self.height}, {self.width}, 3) uint8, got "
                    f"{bg_image.shape} {bg_image.dtype}"
                )
        objects = list(objects)
        if len(objects) > MAX_INSTANCES:
            raise ValueError(f"render_scene: at most {MAX_INSTANCES} objects, got {len(objects)}")
        poses = [_model_view(R, t, k) for k, (_, R, t) in enumerate(objects)]
        temporary = {}
        handles = []
        try:
            for k, (obj, _, _) in enumerate(objects):
                handles.append(self._handle_for(obj, k, temporary))
            light = light / np.linalg.norm(light)
            self._draw(handles, poses, projection, light, ambient, unlit, bg, cull_back_faces)
            return self._read_back(bg_image)
        finally:
            for handle in temporary.values():
                handle.release()

    def _handle_for(self, obj, k: int, temporary: dict) -> MeshHandle:
        if isinstance(obj, MeshHandle):
            if obj.released or obj._renderer is not self:
                raise ValueError(f"object {k}: mesh handle is released or from another Renderer")
            return obj
        if isinstance(obj, Mesh):
            # The same Mesh listed twice (e.g. two instances of one model) is uploaded once.
            if id(obj) not in temporary:
                temporary[id(obj)] = self.upload(obj)
            return temporary[id(obj)]
        raise TypeError(f"object {k}: expected a Mesh or MeshHandle, got {type(obj).__name__}")

    def _draw(self, handles, poses, projection, light, ambient, unlit, bg, cull) -> None:
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._fbo)
        GL.glViewport(0, 0, self.width, self.height)
        (GL.glEnable if cull else GL.glDisable)(GL.GL_CULL_FACE)
        GL.glClearBufferfv(GL.GL_COLOR, 0, np.append(bg, 1.0).astype(np.float32))
        GL.glClearBufferfv(GL.GL_COLOR, 1, np.zeros(4, np.float32))
        GL.glClearBufferfv(GL.GL_COLOR, 2, np.zeros(4, np.float32))
        GL.glClearBufferuiv(GL.GL_COLOR, 3, np.zeros(4, np.uint32))
        GL.glClearBufferfv(GL.GL_DEPTH, 0, np.ones(1, np.float32))
        GL.glUseProgram(self._program)
        u = self._uniforms
        # Row-major NumPy matrices: transpose=GL_TRUE.
        GL.glUniformMatrix4fv(u["u_projection"], 1, GL.GL_TRUE, projection)
        GL.glUniform3f(u["u_light_dir"], *light)
        GL.glUniform1f(u["u_ambient"], ambient)
        GL.glUniform1i(u["u_unlit"], int(bool(unlit)))
        GL.glActiveTexture(GL.GL_TEXTURE0)
        for k, (handle, pose) in enumerate(zip(handles, poses)):
            GL.glUniformMatrix4fv(u["u_model_view"], 1, GL.GL_TRUE, pose)
            GL.glUniform1ui(u["u_instance"], k + 1)
            GL.glUniform1i(u["u_textured"], int(handle.texture is not None))
            GL.glBindTexture(GL.GL_TEXTURE_2D, handle.texture or 0)
            GL.glBindVertexArray(handle.vao)
            GL.glDrawElements(GL.GL_TRIANGLES, 3 * handle.n_faces, GL.GL_UNSIGNED_INT, None)
        GL.glBindVertexArray(0)

    def _read_back(self, bg_image: Optional[np.ndarray]) -> RenderOutput:
        # The projection maps image row v to framebuffer row v, so rows come back in image order.
        w, h = self.width, self.height
        images = []
        for i, (_, fmt, typ, dtype, channels) in enumerate(_ATTACHMENTS):
            out = np.empty((h, w, channels) if channels > 1 else (h, w), dtype)
            GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT0 + i)
            GL.glReadPixels(0, 0, w, h, fmt, typ, out.ctypes.data)
            images.append(out)
        rgb, xyz, depth, instance = images
        mask = instance > 0
        if bg_image is not None:
            np.copyto(rgb, bg_image, where=~mask[:, :, None])
        return RenderOutput(rgb=rgb, depth=depth, mask=mask, xyz=xyz, instance=instance)


# --------------------------------------------------------------------------------------------
# Camera matrices


def _projection(K, width: int, height: int, near: float, far: float) -> np.ndarray:
    """Clip-space matrix for OpenCV intrinsics, with window row v = image row v.

    Window x of pixel centre u is u + 0.5 (OpenCV puts centres at integers, GL at half-integers),
    so x_ndc = 2 (u + 0.5) / W - 1 with u = (fx x + s y + cx z) / z; likewise for y. z maps
    [near, far] to [-1, 1] as in glFrustum.
    """
    K = np.asarray(K, dtype=np.float64)
    if K.shape != (3, 3) or not np.all(np.isfinite(K)):
        raise ValueError(f"K: expected a finite 3x3 matrix, got shape {K.shape}")
    if not 0 < near < far:
        raise ValueError(f"near and far must satisfy 0 < near < far, got {near}, {far}")
    fx, s, cx = K[0]
    fy, cy = K[1, 1], K[1, 2]
    return np.array(
        [
            [2 * fx / width, 2 * s / width, 2 * (cx + 0.5) / width - 1, 0],
            [0, 2 * fy / height, 2 * (cy + 0.5) / height - 1, 0],
            [0, 0, (far + near) / (far - near), -2 * far * near / (far - near)],
            [0, 0, 1, 0],
        ],
        dtype=np.float32,
    )


def _model_view(R, t, k: int) -> np.ndarray:
    R = np.asarray(R, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    if R.shape != (3, 3) or t.size != 3:
        raise ValueError(
            f"object {k}: expected R 3x3 and t with 3 values, got {R.shape} and {t.shape}"
        )
    if not np.allclose(R @ R.T, np.eye(3), atol=1e-4) or np.linalg.det(R) < 0:
        raise ValueError(f"object {k}: R is not a rotation matrix: {R.tolist()}")
    pose = np.eye(4, dtype=np.float32)
    pose[:3, :3] = R
    pose[:3, 3] = t.reshape(3)
    return pose


# --------------------------------------------------------------------------------------------
# GL helpers and contexts


def _link_program(vertex_src: str, fragment_src: str) -> int:
    shaders = []
    for kind, src, name in (
        (GL.GL_VERTEX_SHADER, vertex_src, "vertex"),
        (GL.GL_FRAGMENT_SHADER, fragment_src, "fragment"),
    ):
        shader = GL.glCreateShader(kind)
        GL.glShaderSource(shader, src)
        GL.glCompileShader(shader)
        if not GL.glGetShaderiv(shader, GL.GL_COMPILE_STATUS):
            log = GL.glGetShaderInfoLog(shader).decode(errors="replace")
            raise RuntimeError(f"{name} shader failed to compile: {log}")
        shaders.append(shader)
    program = GL.glCreateProgram()
    for shader in shaders:
        GL.glAttachShader(program, shader)
    GL.glLinkProgram(program)
    for shader in shaders:
        GL.glDeleteShader(shader)  # freed once the program is deleted
    if not GL.glGetProgramiv(program, GL.GL_LINK_STATUS):
        log = GL.glGetProgramInfoLog(program).decode(errors="replace")
        raise RuntimeError(f"shader program failed to link: {log}")
    return program


class _OSMesaContext:
    """A core-profile OSMesa context; rendering goes to an FBO, so its own buffer is 1x1."""

    def __init__(self):
        from OpenGL import arrays, osmesa

        attribs = arrays.GLintArray.asArray(
            [
                osmesa.OSMESA_FORMAT, osmesa.OSMESA_RGBA,
                osmesa.OSMESA_DEPTH_BITS, 0,
                osmesa.OSMESA_STENCIL_BITS, 0,
                osmesa.OSMESA_PROFILE, osmesa.OSMESA_CORE_PROFILE,
                osmesa.OSMESA_CONTEXT_MAJOR_VERSION, MIN_GL_VERSION[0],
                osmesa.OSMESA_CONTEXT_MINOR_VERSION, MIN_GL_VERSION[1],
                0,
            ]
        )  # fmt: skip
        self._osmesa = osmesa
        self._ctx = osmesa.OSMesaCreateContextAttribs(attribs, None)
        if not self._ctx:
            raise RuntimeError(
                "OSMesaCreateContextAttribs failed to create an OpenGL "
                f"{MIN_GL_VERSION[0]}.{MIN_GL_VERSION[1]} core context (is libOSMesa from "
                "Mesa >= 12, e.g. Debian's libosmesa6?)"
            )
        self._buffer = arrays.GLubyteArray.zeros((1, 1, 4))
        self.make_current()

    def make_current(self) -> None:
        if not self._osmesa.OSMesaMakeCurrent(self._ctx, self._buffer, GL.GL_UNSIGNED_BYTE, 1, 1):
            raise RuntimeError("OSMesaMakeCurrent failed")

    def destroy(self) -> None:
        self._osmesa.OSMesaDestroyContext(self._ctx)


class _EGLContext:
    """A surfaceless core-profile EGL context on an enumerated device (rendering uses an FBO)."""

    def __init__(self, device: Optional[int]):
        from OpenGL import EGL

        self._egl = EGL
        self._display = _egl_display(device)
        major, minor = EGL.EGLint(), EGL.EGLint()
        if not EGL.eglInitialize(self._display, ctypes.pointer(major), ctypes.pointer(minor)):
            raise RuntimeError("eglInitialize failed")
        if not EGL.eglBindAPI(EGL.EGL_OPENGL_API):
            raise RuntimeError("eglBindAPI(EGL_OPENGL_API) failed: no desktop OpenGL on EGL")
        config = EGL.EGLConfig()
        n_configs = EGL.EGLint()
        config_attribs = (EGL.EGLint * 5)(
            EGL.EGL_RENDERABLE_TYPE, EGL.EGL_OPENGL_BIT,
            EGL.EGL_SURFACE_TYPE, EGL.EGL_PBUFFER_BIT,
            EGL.EGL_NONE,
        )  # fmt: skip
        ok = EGL.eglChooseConfig(
            self._display, config_attribs, ctypes.pointer(config), 1, ctypes.pointer(n_configs)
        )
        if not ok or n_configs.value < 1:
            raise RuntimeError("eglChooseConfig found no OpenGL-renderable config")
        context_attribs = (EGL.EGLint * 7)(
            EGL.EGL_CONTEXT_MAJOR_VERSION, MIN_GL_VERSION[0],
            EGL.EGL_CONTEXT_MINOR_VERSION, MIN_GL_VERSION[1],
            EGL.EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL.EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
            EGL.EGL_NONE,
        )  # fmt: skip
        self._ctx = EGL.eglCreateContext(self._display, config, EGL.EGL_NO_CONTEXT, context_attribs)
        if not self._ctx:
            raise RuntimeError(
                f"eglCreateContext failed to create an OpenGL {MIN_GL_VERSION[0]}."
                f"{MIN_GL_VERSION[1]} core context (EGL error 0x{EGL.eglGetError():x})"
            )
        self.make_current()

    def make_current(self) -> None:
        egl = self._egl
        if not egl.eglMakeCurrent(self._display, egl.EGL_NO_SURFACE, egl.EGL_NO_SURFACE, self._ctx):
            raise RuntimeError(f"eglMakeCurrent failed (EGL error 0x{egl.eglGetError():x})")

    def destroy(self) -> None:
        egl = self._egl
        egl.eglMakeCurrent(
            self._display, egl.EGL_NO_SURFACE, egl.EGL_NO_SURFACE, egl.EGL_NO_CONTEXT
        )
        egl.eglDestroyContext(self._display, self._ctx)
        # No eglTerminate: the display is shared by every context on this device.


def _egl_display(device: Optional[int]):
    """The EGL display of device number `device`, or of the first hardware device."""
    from OpenGL import EGL
    from OpenGL.EGL.EXT.device_enumeration import eglQueryDevicesEXT
    from OpenGL.EGL.EXT.device_query import eglQueryDeviceStringEXT
    from OpenGL.EGL.EXT.platform_device import EGL_PLATFORM_DEVICE_EXT

    devices = (EGL.EGLDeviceEXT * 16)()
    count = EGL.EGLint()
    if not eglQueryDevicesEXT(len(devices), devices, ctypes.pointer(count)) or count.value < 1:
        raise RuntimeError("EGL found no devices (eglQueryDevicesEXT)")
    found = devices[: count.value]
    if device is None:
        software = [
            b"EGL_MESA_device_software" in (eglQueryDeviceStringEXT(d, EGL.EGL_EXTENSIONS) or b"")
            for d in found
        ]
        device = software.index(False) if False in software else 0
    if not 0 <= device < len(found):
        raise ValueError(f"egl_device {device} out of range: {len(found)} EGL devices")
    display = EGL.eglGetPlatformDisplayEXT(EGL_PLATFORM_DEVICE_EXT, found[device], None)
    if not display:  # EGL_NO_DISPLAY is a null pointer
        raise RuntimeError(f"eglGetPlatformDisplayEXT failed for EGL device {device}")
    return display
