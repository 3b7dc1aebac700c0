"""Offscreen rendering speed: a ~10k-triangle mesh at 640x480, RGB + depth + xyz read back.

Prints the frame rate of the default path (no back-face culling) and where the time goes (an
empty scene costs the clear and the readback of all attachments, so the difference is
rasterisation), then the rate with cull_back_faces=True, and writes
{"render_fps_10k_640x480", "render_cpu_ms_per_frame", "render_fps_culled", "triangles",
"gl_renderer", "gl_version"} as JSON to --out.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Tuple

import numpy as np

from posekit import mesh as pm
from posekit.render import Renderer

WIDTH, HEIGHT = 640, 480


def time_frames(render, frames: int) -> Tuple[float, float]:
    """Wall and CPU (all of llvmpipe's threads) seconds per frame, after warm-up frames.

    CPU time shows whether a slow wall time was the renderer or other load on the machine.
    """
    for _ in range(5):
        render()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(frames):
        render()
    return (time.perf_counter() - wall) / frames, (time.process_time() - cpu) / frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="bench_out/render.json", help="JSON output path")
    parser.add_argument("--frames", type=int, default=100, help="timed frames per case")
    args = parser.parse_args()

    # 2 * 100 * (51 - 1) = 10000 triangles, vertex-coloured, shaded, about 30% of the frame.
    ball = pm.sphere(1.0, rings=51, segments=100)
    sphere = pm.Mesh(ball.vertices, ball.faces, 0.5 + 0.5 * ball.normals, ball.normals)
    K = np.array([[500.0, 0.0, 319.5], [0.0, 500.0, 239.5], [0.0, 0.0, 1.0]])
    R, t = np.eye(3), np.array([0.0, 0.0, 3.0])

    with Renderer(WIDTH, HEIGHT) as renderer:
        handle = renderer.upload(sphere)
        out = renderer.render(handle, K, R, t, 0.1, 10.0)
        assert out.rgb.shape == (HEIGHT, WIDTH, 3) and out.xyz.shape == (HEIGHT, WIDTH, 3)
        frame, frame_cpu = time_frames(
            lambda: renderer.render(handle, K, R, t, 0.1, 10.0), args.frames
        )
        empty, _ = time_frames(lambda: renderer.render_scene([], K, 0.1, 10.0), args.frames)
        culled, _ = time_frames(
            lambda: renderer.render(handle, K, R, t, 0.1, 10.0, cull_back_faces=True), args.frames
        )
        result = {
            "render_fps_10k_640x480": round(1.0 / frame, 1),
            # CPU seconds of all render threads per frame: on a shared, loaded machine this
            # bounds the idle-machine rate (cores / cpu time) where wall time cannot.
            "render_cpu_ms_per_frame": round(1000 * frame_cpu, 2),
            "render_fps_culled": round(1.0 / culled, 1),
            "triangles": handle.n_faces,
            "gl_renderer": renderer.gl_renderer,
            "gl_version": renderer.gl_version,
        }
        coverage = out.mask.mean()

    print(
        f"{result['triangles']} triangles at {WIDTH}x{HEIGHT} ({coverage:.0%} of pixels covered) "
        f"on {result['gl_renderer']}, OpenGL {result['gl_version']}"
    )
    print(
        f"  {result['render_fps_10k_640x480']:.1f} fps ({1000 * frame:.2f} ms per frame, "
        f"{1000 * frame_cpu:.2f} ms CPU over {os.cpu_count()} cores)"
    )
    print(
        f"  clear + readback of RGB, depth, xyz, instance and NumPy copies: "
        f"{1000 * empty:.2f} ms; rasterisation and shading: {1000 * (frame - empty):.2f} ms"
    )
    print(f"  with cull_back_faces=True (closed mesh): {1.0 / culled:.1f} fps")
    out_dir = os.path.dirname(args.out)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
