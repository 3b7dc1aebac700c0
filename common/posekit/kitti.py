"""Readers and writers for the KITTI odometry files and GeoNet's prepared training format.

Real layouts (DESIGN.md section 4):
- `sequences/NN/calib.txt`: lines `P0: v1 .. v12` (also P1..P3 and `Tr:`), each a 3x4 row-major
  matrix; P2 holds the left colour camera's intrinsics. Some redistributed copies drop the
  `Pk:` keys and keep bare rows in the order P0, P1, ...; both are read.
- `sequences/NN/times.txt`: one timestamp (seconds) per line.
- `poses/NN.txt`: 12 floats per line, the 3x4 row-major camera-to-world pose of frame i in the
  coordinate frame of camera 0 of frame 0. Evaluation tools also accept a leading integer frame
  index (13 values per line); `read_poses_with_ids` reads both.
- GeoNet/SfMLearner prepared format: `<seq>/<frame>.jpg` (frames hstacked, target in the
  centre), `<seq>/<frame>_cam.txt` holding `fx,0.,cx,0.,fy,cy,0.,0.,1.`, and `train.txt` /
  `val.txt` with lines `<seq> <frame>`. Split lists of other tools add a third column (`l`/`r`).
- Depth maps in the KITTI depth benchmark format: 16-bit PNG, depth in metres times 256,
  0 where there is no measurement.

Every reader raises `KittiFormatError` naming the file, the line and what was expected.
"""

from __future__ import annotations

import os
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np


class KittiFormatError(ValueError):
    """A KITTI file that does not follow the format; the message names file and line."""


def _fail(path: str, line_no: Optional[int], what: str):
    where = f"{path}:{line_no}" if line_no is not None else path
    raise KittiFormatError(f"{where}: {what}")


def _floats(path: str, line_no: int, tokens: Sequence[str], expected: str) -> List[float]:
    values = []
    for tok in tokens:
        try:
            values.append(float(tok))
        except ValueError:
            _fail(path, line_no, f"expected {expected}, found non-number {tok!r}")
    if not np.all(np.isfinite(values)):
        _fail(path, line_no, f"expected {expected}, found a non-finite value")
    return values


def _lines(path: str) -> List[Tuple[int, str]]:
    """(1-based line number, stripped text) of the non-blank lines of a text file."""
    try:
        with open(path, encoding="utf-8") as f:
            raw = f.read().splitlines()
    except UnicodeDecodeError:
        _fail(path, None, "expected a text file, found undecodable bytes")
    return [(i + 1, line.strip()) for i, line in enumerate(raw) if line.strip()]


# --------------------------------------------------------------------------- calib.txt


def read_calib(path: str) -> Dict[str, np.ndarray]:
    """calib.txt -> {'P0': (3, 4), ..., 'Tr': (3, 4)}."""
    calib: Dict[str, np.ndarray] = {}
    lines = _lines(path)
    if not lines:
        _fail(path, None, "expected calibration lines 'P0: 12 numbers', found an empty file")
    for line_no, text in lines:
        if ":" in text:
            key, rest = text.split(":", 1)
            key = key.strip()
            tokens = rest.split()
        else:
            key = f"P{len(calib)}"
            tokens = text.split()
        if len(tokens) != 12:
            _fail(path, line_no, f"expected 12 numbers for {key} (3x4 matrix), found {len(tokens)}")
        if key in calib:
            _fail(path, line_no, f"{key} appears twice")
        calib[key] = np.array(_floats(path, line_no, tokens, "12 numbers")).reshape(3, 4)
    return calib


def write_calib(path: str, calib: Dict[str, np.ndarray]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for key, mat in calib.items():
            vals = " ".join(f"{v:.12e}" for v in np.asarray(mat, dtype=np.float64).reshape(12))
            f.write(f"{key}: {vals}\n")


def intrinsics_from_calib(calib: Dict[str, np.ndarray], camera: int = 2) -> np.ndarray:
    """3x3 intrinsics of camera `camera` (2 = left colour) from a read_calib() result."""
    key = f"P{camera}"
    if key not in calib:
        raise KittiFormatError(f"calibration has no {key}; found {sorted(calib)}")
    return np.array(calib[key][:, :3], dtype=np.float64)


# --------------------------------------------------------------------------- times.txt


def read_times(path: str) -> np.ndarray:
    """times.txt -> (N,) seconds; they must not decrease."""
    times = []
    for line_no, text in _lines(path):
        tokens = text.split()
        if len(tokens) != 1:
            _fail(path, line_no, f"expected one timestamp, found {len(tokens)} values")
        t = _floats(path, line_no, tokens, "a timestamp in seconds")[0]
        if times and t < times[-1]:
            _fail(path, line_no, f"timestamps must not decrease ({t} after {times[-1]})")
        times.append(t)
    return np.array(times, dtype=np.float64)


def write_times(path: str, times: Sequence[float]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for t in times:
            f.write(f"{t:e}\n")


# --------------------------------------------------------------------------- poses/NN.txt


def read_poses_with_ids(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """poses file -> (frame ids (N,) int, poses (N, 4, 4)).

    12 values per line: frame id = line index. 13 values: the first is the frame id.
    """
    ids, poses = [], []
    width = None
    for line_no, text in _lines(path):
        tokens = text.split()
        if len(tokens) not in (12, 13):
            _fail(
                path,
                line_no,
                "expected 12 numbers (3x4 row-major pose) or a frame index and 12 numbers, "
                f"found {len(tokens)} values",
            )
        if width is not None and len(tokens) != width:
            _fail(
                path, line_no, f"expected {width} values like the lines before, found {len(tokens)}"
            )
        width = len(tokens)
        vals = _floats(path, line_no, tokens, "numbers")
        if width == 13:
            if vals[0] != int(vals[0]) or vals[0] < 0:
                _fail(
                    path, line_no, f"expected a non-negative integer frame index, found {tokens[0]}"
                )
            ids.append(int(vals[0]))
            vals = vals[1:]
        else:
            ids.append(len(poses))
        T = np.eye(4)
        T[:3, :] = np.array(vals).reshape(3, 4)
        R = T[:3, :3]
        # KITTI writes 6-7 significant digits; a rotation further from orthonormal is not a pose.
        if abs(np.linalg.det(R) - 1.0) > 1e-3 or np.abs(R.T @ R - np.eye(3)).max() > 1e-3:
            _fail(path, line_no, "expected a rotation in columns 1-3, 5-7, 9-11 (R^T R = I)")
        poses.append(T)
    if not poses:
        _fail(path, None, "expected pose lines, found an empty file")
    ids_arr = np.array(ids, dtype=np.int64)
    if np.any(np.diff(ids_arr) <= 0):
        bad = int(np.argmax(np.diff(ids_arr) <= 0)) + 1
        _fail(path, None, f"frame indices must increase; entry {bad + 1} has {ids_arr[bad]}")
    return ids_arr, np.stack(poses)


def read_poses(path: str) -> np.ndarray:
    """poses file -> (N, 4, 4) camera-to-world poses of frames 0..N-1."""
    ids, poses = read_poses_with_ids(path)
    if not np.array_equal(ids, np.arange(len(ids))):
        _fail(path, None, "expected one pose per frame 0..N-1; use read_poses_with_ids for gaps")
    return poses


def write_poses(path: str, poses: np.ndarray) -> None:
    """(N, 4, 4) or (N, 3, 4) poses -> KITTI poses file (12 values per line)."""
    poses = np.asarray(poses, dtype=np.float64)
    with open(path, "w", encoding="utf-8") as f:
        for T in poses:
            f.write(" ".join(f"{v:e}" for v in T[:3, :4].reshape(12)) + "\n")


# --------------------------------------------------------------------------- prepared format


def read_cam_txt(path: str) -> np.ndarray:
    """`<frame>_cam.txt` (fx,0.,cx,0.,fy,cy,0.,0.,1.) -> 3x3 intrinsics."""
    lines = _lines(path)
    if len(lines) != 1:
        _fail(
            path, None, f"expected one line of 9 comma-separated numbers, found {len(lines)} lines"
        )
    line_no, text = lines[0]
    tokens = [t.strip() for t in text.split(",")]
    if len(tokens) != 9:
        _fail(path, line_no, f"expected 9 comma-separated numbers, found {len(tokens)}")
    K = np.array(_floats(path, line_no, tokens, "9 comma-separated numbers")).reshape(3, 3)
    if K[0, 0] <= 0 or K[1, 1] <= 0 or not np.allclose(K[2], [0, 0, 1]):
        _fail(path, line_no, "expected fx > 0, fy > 0 and a last row 0,0,1")
    return K


def write_cam_txt(path: str, K: np.ndarray) -> None:
    K = np.asarray(K, dtype=np.float64)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{K[0, 0]:f},0.,{K[0, 2]:f},0.,{K[1, 1]:f},{K[1, 2]:f},0.,0.,1.")


class SplitEntry(NamedTuple):
    folder: str
    frame: str
    side: Optional[str]


def read_split(path: str) -> List[SplitEntry]:
    """Split list: `<folder> <frame>` (GeoNet train.txt/val.txt) or `<folder> <frame> l|r`."""
    entries = []
    for line_no, text in _lines(path):
        tokens = text.split()
        if len(tokens) not in (2, 3):
            _fail(path, line_no, f"expected '<folder> <frame> [l|r]', found {len(tokens)} fields")
        side = tokens[2] if len(tokens) == 3 else None
        if side is not None and side not in ("l", "r"):
            _fail(path, line_no, f"expected side 'l' or 'r' in field 3, found {side!r}")
        entries.append(SplitEntry(tokens[0], tokens[1], side))
    return entries


def write_split(path: str, entries: Sequence[Tuple[str, str]]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for folder, frame in entries:
            f.write(f"{folder} {frame}\n")


# --------------------------------------------------------------------------- depth PNG


def read_depth_png(path: str) -> np.ndarray:
    """KITTI depth PNG (uint16, metres * 256, 0 = invalid) -> float32 metres, 0 where invalid."""
    from PIL import Image

    with Image.open(path) as im:
        arr = np.array(im)
    if arr.dtype != np.uint16 and arr.dtype != np.int32:
        _fail(path, None, f"expected a 16-bit PNG depth map, found dtype {arr.dtype}")
    if arr.ndim != 2:
        _fail(path, None, f"expected a single-channel depth map, found shape {arr.shape}")
    return arr.astype(np.float32) / 256.0


def write_depth_png(path: str, depth: np.ndarray) -> None:
    """Metres (0 or non-finite = invalid) -> KITTI 16-bit depth PNG."""
    from PIL import Image

    depth = np.asarray(depth, dtype=np.float64)
    depth = np.where(np.isfinite(depth), depth, 0.0)
    scaled = np.where(depth > 0, np.round(depth * 256.0), 0)
    if scaled.max(initial=0) > 65535:
        raise ValueError(f"depth above {65535 / 256:.1f} m cannot be stored in a KITTI depth PNG")
    Image.fromarray(scaled.astype(np.uint16)).save(path, compress_level=1)


def write_flow_png(path: str, flow: np.ndarray, valid: Optional[np.ndarray] = None) -> None:
    """(H, W, 2) flow in pixels -> KITTI flow 2015 PNG: 16-bit RGB = (u, v, valid), u and v
    stored as flow * 64 + 2^15. (Pillow cannot hold 16-bit RGB, so the PNG is written here.)"""
    import struct
    import zlib

    flow = np.asarray(flow, dtype=np.float64)
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"flow must be (H, W, 2), got {flow.shape}")
    valid = np.ones(flow.shape[:2], bool) if valid is None else np.asarray(valid, bool)
    enc = np.clip(np.round(flow * 64.0 + 2**15), 0, 65535).astype(np.uint16)
    rgb = np.dstack([enc, valid.astype(np.uint16)])
    height, width, _ = rgb.shape
    rows = rgb.astype(">u2").reshape(height, width * 3).view(np.uint8)
    raw = np.hstack([np.zeros((height, 1), np.uint8), rows]).tobytes()  # filter 0 per row

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header))
        f.write(chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))


# --------------------------------------------------------------------------- layout


def sequence_dir(root: str, seq: int) -> str:
    return os.path.join(root, "sequences", f"{seq:02d}")


def image_path(root: str, seq: int, frame: int, camera: int = 2) -> str:
    return os.path.join(sequence_dir(root, seq), f"image_{camera}", f"{frame:06d}.png")


def pose_path(root: str, seq: int) -> str:
    return os.path.join(root, "poses", f"{seq:02d}.txt")


def count_frames(root: str, seq: int, camera: int = 2) -> int:
    """Number of frames of a sequence; the images must be 000000.png .. N-1 without gaps."""
    img_dir = os.path.join(sequence_dir(root, seq), f"image_{camera}")
    if not os.path.isdir(img_dir):
        raise KittiFormatError(f"{img_dir}: expected a folder of frames 000000.png, ...")
    names = sorted(n for n in os.listdir(img_dir) if n.endswith(".png"))
    expected = [f"{i:06d}.png" for i in range(len(names))]
    if names != expected:
        missing = sorted(set(expected) - set(names))
        raise KittiFormatError(
            f"{img_dir}: expected frames 000000.png..{len(names) - 1:06d}.png without gaps"
            + (f"; first missing {missing[0]}" if missing else "")
        )
    return len(names)
