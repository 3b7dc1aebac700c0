"""VeRi-776 with the PAMTRI keypoint labels (PoseEstNet): read, check and write the label CSVs.

The real format (NVlabs/PAMTRI, PoseEstNet/data/veri/annot/label_{train,test}.csv), accepted
byte for byte: no header, one vehicle image per line, 111 integer columns

    image_name,width,height,x0,y0,vis0,...,x35,y35,vis35

with pixel coordinates in the image (0-based) and vis 1 (visible) or 0 (hidden: the point is
still labelled, e.g. on the far side of the car). 9068 train / 1060 test rows; the images live in
`images/image_{train,test}/`.

The 36 keypoints are 18 on each side of the vehicle: index i on one side is index i + 18 on the
other, which is the flip pair. Per side, as read off side views in the real labels:

    0 rear wheel centre        1 front wheel centre
    2..5 front wheel arch: front-bottom, front-top, rear-top, rear-bottom
    6..9 rear wheel arch:  front-bottom, front-top, rear-top, rear-bottom
    10 back bottom corner      11 back top corner (trunk lid edge)
    12 rear window, bottom     13 roof, rear corner
    14 roof, front corner      15 windshield, bottom (hood rear edge)
    16 front top corner        17 front bottom corner

MultiTaskNet (PAMTRI's re-identification stage) reads CSVs of 112 columns: image_name,
vehicle_id, colour_id, type_id, then 36 x (x, y, confidence) as floats; PoseEstNet's trans step
writes `pose_<set>.csv` with image_name then 36 x (x, y, confidence) (109 columns).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np

NUM_JOINTS = 36
SIDE = 18
FLIP_PAIRS: Tuple[Tuple[int, int], ...] = tuple((i, i + SIDE) for i in range(SIDE))
# Part groups of the PCK table, in the seed's column order (DESIGN.md section 4).
PARTS: Tuple[Tuple[str, Tuple[int, ...]], ...] = (
    ("Wheel", (0, 1, 18, 19)),
    ("Fender", tuple(range(2, 10)) + tuple(range(20, 28))),
    ("Back", (10, 11, 28, 29)),
    ("Front", (16, 17, 34, 35)),
    ("WindshieldBack", (12, 13, 30, 31)),
    ("WindshieldFront", (14, 15, 32, 33)),
)
SIDE_NAMES = (
    "rear_wheel", "front_wheel",
    "front_arch_front_bottom", "front_arch_front_top", "front_arch_rear_top",
    "front_arch_rear_bottom",
    "rear_arch_front_bottom", "rear_arch_front_top", "rear_arch_rear_top",
    "rear_arch_rear_bottom",
    "back_bottom", "back_top", "rear_window_bottom", "roof_rear", "roof_front",
    "windshield_bottom", "front_top", "front_bottom",
)  # fmt: skip
# The side with indices 0..17 is the one a side view shows when the car's front points to the
# image left (the car's left side); 18..35 the other.
JOINT_NAMES = tuple("left_" + n for n in SIDE_NAMES) + tuple("right_" + n for n in SIDE_NAMES)
# Outline for drawing: per side the silhouette and the arches, plus cross edges between sides.
_SIDE_EDGES = (
    (17, 16), (16, 15), (15, 14), (14, 13), (13, 12), (12, 11), (11, 10),
    (2, 3), (3, 4), (4, 5), (6, 7), (7, 8), (8, 9), (10, 9), (6, 5), (2, 17),
)  # fmt: skip
SKELETON: Tuple[Tuple[int, int], ...] = (
    _SIDE_EDGES
    + tuple((a + SIDE, b + SIDE) for a, b in _SIDE_EDGES)
    + tuple((k, k + SIDE) for k in (10, 11, 13, 14, 16, 17))
)
# Quadrilaterals MultiTaskNet reads as vehicle segments (13 surfaces: 3 per side, 7 across),
# the vertex order of PAMTRI's trans step.
SEGMENTS: Tuple[Tuple[int, int, int, int], ...] = (
    (5, 15, 16, 17), (5, 6, 12, 15), (6, 10, 11, 12),
    (23, 33, 34, 35), (23, 24, 30, 33), (24, 28, 29, 30),
    (10, 11, 29, 28), (11, 12, 30, 29), (12, 13, 31, 30),
    (13, 14, 32, 31), (14, 15, 33, 32), (15, 16, 34, 33),
    (16, 17, 35, 34),
)  # fmt: skip
SPLITS = ("train", "test")
LABEL_COLUMNS = 3 + 3 * NUM_JOINTS  # 111
MULTITASK_COLUMNS = 4 + 3 * NUM_JOINTS  # 112
POSE_COLUMNS = 1 + 3 * NUM_JOINTS  # 109


class VeriFormatError(ValueError):
    """A label CSV that cannot be used; the message names the file, line and field."""


@dataclass
class Labels:
    """One label file: N image names, (N, 2) sizes (width, height), (N, 36, 2) joints, (N, 36) vis.

    Joints and visibility are int64 as in the files; `path` is where they were read from.
    """

    names: List[str]
    sizes: np.ndarray
    joints: np.ndarray
    visible: np.ndarray
    path: str = ""

    def __len__(self) -> int:
        return len(self.names)

    def boxes(self) -> np.ndarray:
        """(N, 4) x, y, w, h of each whole image: a VeRi image is already a crop of one vehicle."""
        out = np.zeros((len(self), 4), dtype=np.float64)
        out[:, 2:] = self.sizes
        return out


def field_name(column: int) -> str:
    """'image_name', 'width', 'height', 'x7', 'y7', 'vis7' for a 0-based label column."""
    if column < 3:
        return ("image_name", "width", "height")[column]
    joint, which = divmod(column - 3, 3)
    return ("x", "y", "vis")[which] + str(joint)


def _parse_int(text: str, path: str, lineno: int, column: int) -> int:
    try:
        return int(text)
    except ValueError:
        raise VeriFormatError(
            f"{path}:{lineno}: field {field_name(column)} (column {column + 1}) is not an "
            f"integer: {text!r}"
        ) from None


def _read_lines(path: str, what: str) -> List[Tuple[int, str]]:
    """(line number, text) of the non-blank lines of a text file, with clear errors."""
    if not os.path.isfile(path):
        raise VeriFormatError(f"{path}: file not found (expected {what})")
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise VeriFormatError(f"{path}: not UTF-8/ASCII text ({exc})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return [(i, line) for i, line in enumerate(text.splitlines(), start=1) if line.strip()]


def read_labels(path: str) -> Labels:
    """Parse and validate one PAMTRI `label_*.csv`; raise VeriFormatError on the first bad line."""
    path = os.fspath(path)
    names: List[str] = []
    sizes, rows = [], []
    seen: Dict[str, int] = {}
    for lineno, line in _read_lines(path, "a PAMTRI VeRi label CSV"):
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != LABEL_COLUMNS:
            raise VeriFormatError(
                f"{path}:{lineno}: expected {LABEL_COLUMNS} comma-separated fields "
                f"(image_name,width,height then {NUM_JOINTS} x (x,y,vis)), got {len(fields)}"
            )
        name = fields[0]
        if not name:
            raise VeriFormatError(f"{path}:{lineno}: field image_name is empty")
        if lineno == 1 and not fields[1].lstrip("-").isdigit():
            raise VeriFormatError(
                f"{path}:1: field width is {fields[1]!r}: the file must have no header line"
            )
        if name in seen:
            raise VeriFormatError(
                f"{path}:{lineno}: image {name} is listed twice (first on line {seen[name]})"
            )
        values = [_parse_int(t, path, lineno, c) for c, t in enumerate(fields[1:], start=1)]
        width, height = values[0], values[1]
        for column, v in ((1, width), (2, height)):
            if v <= 0:
                raise VeriFormatError(
                    f"{path}:{lineno}: field {field_name(column)} must be a positive number of "
                    f"pixels, got {v}"
                )
        joints = values[2:]
        for k in range(NUM_JOINTS):
            vis = joints[3 * k + 2]
            if vis not in (0, 1):
                raise VeriFormatError(
                    f"{path}:{lineno}: field vis{k} (column {3 * k + 6}) must be 0 (hidden) or "
                    f"1 (visible), got {vis}"
                )
        seen[name] = lineno
        names.append(name)
        sizes.append((width, height))
        rows.append(joints)
    if not names:
        raise VeriFormatError(f"{path}: no label rows (expected {LABEL_COLUMNS}-column lines)")
    table = np.asarray(rows, dtype=np.int64).reshape(-1, NUM_JOINTS, 3)
    return Labels(
        names=names,
        sizes=np.asarray(sizes, dtype=np.int64),
        joints=table[:, :, :2].copy(),
        visible=table[:, :, 2].copy(),
        path=path,
    )


def _atomic_write(path: str, lines: Sequence[str]) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path + ".part", "w", encoding="utf-8", newline="\n") as f:
        f.write("".join(line + "\n" for line in lines))
    os.replace(path + ".part", path)


def write_labels(path: str, labels: Labels) -> None:
    """Write a label CSV in the real format (joints rounded to integers), atomically."""
    check_labels(labels)
    joints = np.rint(np.asarray(labels.joints, dtype=np.float64)).astype(np.int64)
    lines = []
    for i, name in enumerate(labels.names):
        cells = [name, str(int(labels.sizes[i][0])), str(int(labels.sizes[i][1]))]
        for k in range(NUM_JOINTS):
            cells += [str(joints[i, k, 0]), str(joints[i, k, 1]), str(int(labels.visible[i, k]))]
        lines.append(",".join(cells))
    _atomic_write(path, lines)


def check_labels(labels: Labels) -> None:
    """Shapes and values a label file can hold; raises ValueError naming what is wrong."""
    n = len(labels.names)
    if np.shape(labels.sizes) != (n, 2):
        raise ValueError(f"sizes: expected shape ({n}, 2), got {np.shape(labels.sizes)}")
    if np.shape(labels.joints) != (n, NUM_JOINTS, 2):
        raise ValueError(
            f"joints: expected shape ({n}, {NUM_JOINTS}, 2), got {np.shape(labels.joints)}"
        )
    if np.shape(labels.visible) != (n, NUM_JOINTS):
        raise ValueError(
            f"visible: expected shape ({n}, {NUM_JOINTS}), got {np.shape(labels.visible)}"
        )
    if not np.all(np.isin(labels.visible, (0, 1))):
        raise ValueError("visible: values must be 0 or 1")
    bad = [nm for nm in labels.names if not nm or "," in nm or "\n" in nm]
    if bad:
        raise ValueError(f"names: empty or containing ',' / newline: {bad[:3]}")


def label_path(root: str, split: str) -> str:
    """`<root>/annot/label_<split>.csv` of a PoseEstNet data folder."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return os.path.join(root, "annot", f"label_{split}.csv")


def image_dir(root: str, split: str) -> str:
    """`<root>/images/image_<split>` of a PoseEstNet data folder."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return os.path.join(root, "images", f"image_{split}")


@dataclass
class PoseTable:
    """Per-image keypoints with a confidence: MultiTaskNet inputs and PoseEstNet predictions.

    names (N,), points (N, 36, 2) float, scores (N, 36) float; `extra` (N, 3) int holds
    vehicle_id, colour_id, type_id for the 112-column MultiTaskNet files (None for pose_*.csv).
    """

    names: List[str]
    points: np.ndarray
    scores: np.ndarray
    extra: object = None
    path: str = ""

    def __len__(self) -> int:
        return len(self.names)


def _parse_float(text: str, path: str, lineno: int, what: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise VeriFormatError(f"{path}:{lineno}: field {what} is not a number: {text!r}") from None
    if not math.isfinite(v):
        raise VeriFormatError(f"{path}:{lineno}: field {what} is not finite: {text!r}")
    return v


def read_pose_table(path: str) -> PoseTable:
    """Read a 112-column MultiTaskNet label CSV or a 109-column `pose_<set>.csv`.

    The column count of the first row decides the kind; every row must then have the same.
    """
    path = os.fspath(path)
    lines = _read_lines(path, "a MultiTaskNet label CSV or a pose_<set>.csv")
    if not lines:
        raise VeriFormatError(f"{path}: no rows")
    first = len(lines[0][1].split(","))
    if first not in (MULTITASK_COLUMNS, POSE_COLUMNS):
        raise VeriFormatError(
            f"{path}:{lines[0][0]}: expected {MULTITASK_COLUMNS} fields (image_name,vehicle_id,"
            f"colour_id,type_id then {NUM_JOINTS} x (x,y,confidence)) or {POSE_COLUMNS} fields "
            f"(image_name then {NUM_JOINTS} x (x,y,confidence)), got {first}"
        )
    lead = first - 3 * NUM_JOINTS
    names, extras, values = [], [], []
    for lineno, line in lines:
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != first:
            raise VeriFormatError(
                f"{path}:{lineno}: expected {first} fields like line {lines[0][0]}, got "
                f"{len(fields)}"
            )
        if not fields[0]:
            raise VeriFormatError(f"{path}:{lineno}: field image_name is empty")
        names.append(fields[0])
        if lead == 4:
            extras.append(
                [
                    _parse_int_named(t, path, lineno, nm)
                    for t, nm in zip(fields[1:4], ("vehicle_id", "colour_id", "type_id"))
                ]
            )
        row = []
        for c, t in enumerate(fields[lead:]):
            k, which = divmod(c, 3)
            row.append(_parse_float(t, path, lineno, ("x", "y", "confidence")[which] + str(k)))
        values.append(row)
    table = np.asarray(values, dtype=np.float64).reshape(-1, NUM_JOINTS, 3)
    return PoseTable(
        names=names,
        points=table[:, :, :2].copy(),
        scores=table[:, :, 2].copy(),
        extra=np.asarray(extras, dtype=np.int64) if lead == 4 else None,
        path=path,
    )


def _parse_int_named(text: str, path: str, lineno: int, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise VeriFormatError(
            f"{path}:{lineno}: field {what} is not an integer: {text!r}"
        ) from None


def write_pose_table(path: str, table: PoseTable) -> None:
    """Write `pose_<set>.csv` (109 columns) or, when `extra` is set, the 112-column form.

    Numbers are written with 3 decimals, as PAMTRI's trans step does.
    """
    points = np.asarray(table.points, dtype=np.float64)
    scores = np.asarray(table.scores, dtype=np.float64)
    n = len(table.names)
    if points.shape != (n, NUM_JOINTS, 2) or scores.shape != (n, NUM_JOINTS):
        raise ValueError(
            f"points/scores: expected ({n}, {NUM_JOINTS}, 2) and ({n}, {NUM_JOINTS}), got "
            f"{points.shape} and {scores.shape}"
        )
    lines = []
    for i, name in enumerate(table.names):
        cells = [name]
        if table.extra is not None:
            cells += [str(int(v)) for v in np.asarray(table.extra)[i]]
        for k in range(NUM_JOINTS):
            cells += [f"{points[i, k, 0]:.3f}", f"{points[i, k, 1]:.3f}", f"{scores[i, k]:.3f}"]
        lines.append(",".join(cells))
    _atomic_write(path, lines)


def flip_labels(joints: np.ndarray, visible: np.ndarray, width: int):
    """Joints and visibility of the mirrored image: x -> width - 1 - x, sides swapped."""
    joints = np.array(joints, dtype=np.float64, copy=True)
    visible = np.array(visible, copy=True)
    joints[..., 0] = width - 1 - joints[..., 0]
    order = np.array([b for _, b in FLIP_PAIRS] + [a for a, _ in FLIP_PAIRS])
    return joints[..., order, :], visible[..., order]


def mean_layout(labels: Labels) -> np.ndarray:
    """(36, 2) mean joint position relative to the image box, in [0, 1] units of (w, h).

    The trivial baseline of the PCK table: place this layout in each test image's box.
    """
    rel = labels.joints.astype(np.float64) / labels.sizes[:, None, :].astype(np.float64)
    return rel.mean(axis=0)


def place_layout(layout: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """(36, 2) relative layout placed in N image boxes of (width, height) -> (N, 36, 2) pixels."""
    return np.asarray(layout)[None] * np.asarray(sizes, dtype=np.float64)[:, None, :]
