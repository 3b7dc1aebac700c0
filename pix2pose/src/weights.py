"""Weights as HDF5 files (the seed's pix2pose.EE-LOSS.hdf5 and inference.hdf5 layout): one
dataset per TF variable, named by the variable name; writes are atomic (temp file, rename)."""

from __future__ import annotations

import os
import re
from typing import Dict, List, Optional, Tuple

import h5py
import numpy as np

CKPT_RE = re.compile(r"^pix2pose\.(\d+)-(\d+\.\d+)\.hdf5$")


def _key(name: str) -> str:
    return name.split(":")[0]


def save(path: str, values: Dict[str, np.ndarray], attrs: Optional[dict] = None) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".part"
    with h5py.File(tmp, "w") as f:
        for name, value in values.items():
            f.create_dataset(_key(name), data=value)
        for k, v in (attrs or {}).items():
            f.attrs[k] = v
    os.replace(tmp, path)


def load(path: str) -> Tuple[Dict[str, np.ndarray], dict]:
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: weights file not found")
    out = {}
    try:
        with h5py.File(path, "r") as f:
            f.visititems(
                lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None
            )
            attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
    except OSError as exc:
        raise ValueError(f"{path}: not a readable HDF5 weights file ({exc})") from None
    return out, attrs


def save_variables(path: str, sess, variables, attrs: Optional[dict] = None) -> None:
    save(path, dict(zip([v.name for v in variables], sess.run(variables))), attrs)


def assign_variables(path: str, sess, variables, required: bool = True) -> List[str]:
    """Loads values into `variables` by name; missing or mis-shaped ones raise, naming both."""
    values, _ = load(path)
    ops, feeds, loaded = [], {}, []
    for v in variables:
        key = _key(v.name)
        if key not in values:
            if required:
                raise ValueError(
                    f"{path}: no weights for variable '{key}' (is this the right model/config?)"
                )
            continue
        if tuple(values[key].shape) != tuple(v.shape.as_list()):
            raise ValueError(
                f"{path}: variable '{key}' has shape {values[key].shape}, the model expects "
                f"{tuple(v.shape.as_list())} (check img_size/width in the config)"
            )
        ph = v._assign_placeholder if hasattr(v, "_assign_placeholder") else None
        if ph is None:
            import tensorflow as tf

            ph = tf.compat.v1.placeholder(v.dtype.base_dtype, v.shape)
            v._assign_placeholder = ph
            v._assign_op = v.assign(ph)
        ops.append(v._assign_op)
        feeds[ph] = values[key]
        loaded.append(key)
    sess.run(ops, feeds)
    return loaded


def latest_checkpoint(weight_dir: str) -> Optional[Tuple[int, str]]:
    """(epoch, path) of the newest pix2pose.EE-LOSS.hdf5 in weight_dir, if any."""
    if not os.path.isdir(weight_dir):
        return None
    best = None
    for name in os.listdir(weight_dir):
        m = CKPT_RE.match(name)
        if m and (best is None or int(m.group(1)) > best[0]):
            best = (int(m.group(1)), os.path.join(weight_dir, name))
    return best


def best_checkpoint(weight_dir: str) -> Optional[str]:
    """The pix2pose.EE-LOSS.hdf5 with the lowest loss (the reference keeps improving ones)."""
    if not os.path.isdir(weight_dir):
        return None
    cands = [
        (float(m.group(2)), -int(m.group(1)), n)
        for n in os.listdir(weight_dir)
        for m in [CKPT_RE.match(n)]
        if m
    ]
    return os.path.join(weight_dir, min(cands)[2]) if cands else None
