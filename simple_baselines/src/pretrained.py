"""ImageNet ResNet weights for the backbone: torchvision `.pth` files (read without torch) or
MindSpore `.ckpt` files.

A `.pth` is a pickled state_dict. Two containers exist: the zip archive that torch >= 1.6 writes
(`*/data.pkl` + one raw file per storage) and the older stream (magic number, protocol, system
info, the pickle, the storage keys, then each storage as an int64 element count and raw bytes);
torchvision's original resnet50-19c8e357.pth is of the older kind. Both are decoded here with
pickle + NumPy: tensors are rebuilt from (storage, offset, size, stride) as NumPy views.

The reference MindSpore port silently skipped the ImageNet weights (DESIGN.md 6); here every
backbone weight must be found with the right shape, or loading fails naming the keys.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import zipfile

import mindspore as ms
import numpy as np

_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class _StorageType:
    def __init__(self, name):
        if name not in _DTYPES:
            raise ValueError(f"unsupported tensor storage type torch.{name}")
        self.dtype = np.dtype(_DTYPES[name]).newbyteorder("<")


class _Storage:
    """A storage named in the pickle; its bytes are attached once read."""

    def __init__(self, kind, key):
        self.dtype = kind.dtype
        self.key = key
        self.data = None


class _Tensor:
    """(storage, offset, size, stride) as torch's _rebuild_tensor_v2 receives them."""

    def __init__(self, storage, offset, size, stride, *_):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def numpy(self):
        flat = self.storage.data
        if not self.size:
            return flat[self.offset : self.offset + 1].reshape(()).copy()
        item = flat.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[self.offset :],
            shape=tuple(self.size),
            strides=tuple(st * item for st in self.stride),
        )
        return np.array(view)


def _rebuild_parameter(data, *_):
    return data


class _Unpickler(pickle.Unpickler):
    """Unpickles a state_dict with only the torch names a state_dict uses, lazily."""

    def __init__(self, stream):
        super().__init__(stream)
        self.storages = {}

    def find_class(self, module, name):
        if module == "torch._utils" and name in ("_rebuild_tensor", "_rebuild_tensor_v2"):
            return _Tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name.endswith("Storage"):
            return _StorageType(name)
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"unexpected object {module}.{name} in a weights file")

    def persistent_load(self, pid):
        # ('storage', storage type, key, location, numel[, view metadata])
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        key = str(pid[2])
        if key not in self.storages:
            self.storages[key] = _Storage(pid[1], key)
        return self.storages[key]


def _read_zip(path):
    with zipfile.ZipFile(path) as zf:
        pkl = [n for n in zf.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
        if not pkl:
            raise ValueError(f"{path}: zip archive without data.pkl, not a torch file")
        base = pkl[0][: -len("data.pkl")]
        unpickler = _Unpickler(io.BytesIO(zf.read(pkl[0])))
        state = unpickler.load()
        for key, storage in unpickler.storages.items():
            storage.data = np.frombuffer(zf.read(f"{base}data/{key}"), dtype=storage.dtype)
    return state


def _read_legacy(path):
    with open(path, "rb") as f:
        try:
            magic = pickle.load(f)
        except Exception as exc:
            raise ValueError(f"{path}: not a torch weights file ({exc})") from exc
        if magic != _LEGACY_MAGIC:
            raise ValueError(f"{path}: not a torch weights file (bad magic number)")
        pickle.load(f)  # protocol version
        pickle.load(f)  # system info
        unpickler = _Unpickler(f)
        state = unpickler.load()
        for key in pickle.load(f):
            storage = unpickler.storages[str(key)]
            (numel,) = struct.unpack("<q", f.read(8))
            raw = f.read(numel * storage.dtype.itemsize)
            storage.data = np.frombuffer(raw, dtype=storage.dtype)
    return state


def read_torch_state_dict(path):
    """torch-saved state_dict -> OrderedDict name -> NumPy array, without importing torch."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"pretrained weights not found: {path}")
    state = _read_zip(path) if zipfile.is_zipfile(path) else _read_legacy(path)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a state_dict (name -> tensor)")
    return collections.OrderedDict(
        (k, v.numpy() if isinstance(v, _Tensor) else np.asarray(v)) for k, v in state.items()
    )


def torch_to_mindspore_name(name):
    """torchvision ResNet parameter name -> our backbone's, or None for unused entries."""
    if name.startswith("fc.") or name.endswith("num_batches_tracked"):
        return None
    parts = name.split(".")
    module, leaf = parts[:-1], parts[-1]
    is_bn = module[-1].startswith("bn") or (module[-2:-1] == ["downsample"] and module[-1] == "1")
    if is_bn:
        leaf = {
            "weight": "gamma",
            "bias": "beta",
            "running_mean": "moving_mean",
            "running_var": "moving_variance",
        }[leaf]
    return ".".join(module + [leaf])


def load_imagenet_backbone(backbone, path):
    """Loads ImageNet ResNet weights into `backbone` (a src.pose_resnet.ResNet); strict."""
    own = {name: param for name, param in backbone.parameters_and_names()}
    if path.endswith(".pth") or path.endswith(".pt"):
        source = {}
        for name, value in read_torch_state_dict(path).items():
            target = torch_to_mindspore_name(name)
            if target is not None:
                source[target] = np.asarray(value)
    else:
        source = {}
        for name, value in ms.load_checkpoint(path).items():
            name = name.replace("down_sample_layer", "downsample")
            if name.startswith("backbone."):
                name = name[len("backbone.") :]
            source[name] = value.asnumpy() if hasattr(value, "asnumpy") else np.asarray(value)
    missing = sorted(set(own) - set(source))
    if missing:
        raise ValueError(
            f"{path}: {len(missing)} backbone weights not found (first: {missing[:4]}); "
            "is it a ResNet of depth NETWORK.NUM_LAYERS?"
        )
    for name, param in own.items():
        value = source[name]
        if tuple(value.shape) != tuple(param.shape):
            raise ValueError(
                f"{path}: {name} has shape {tuple(value.shape)}, the network expects "
                f"{tuple(param.shape)}"
            )
        param.set_data(ms.Tensor(value.astype(np.float32)))
