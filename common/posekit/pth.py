"""PyTorch `.pth` state dicts -> NumPy arrays, without importing torch.

torch.save writes one of two containers:

- zip archive (the default since torch 1.6): the pickle is `<archive>/data.pkl` and every
  storage is a raw file `<archive>/data/<key>`, little-endian unless `<archive>/byteorder`
  says "big";
- legacy stream: pickled magic number, protocol version and system info, then the pickle, the
  list of storage keys, and for each storage an int64 element count and its raw little-endian
  bytes.

In both, the pickle refers to storages by persistent id ('storage', storage type, key, location,
numel[, view]) and rebuilds tensors with torch._utils._rebuild_tensor_v2(storage, offset, size,
stride, ...). The unpickler here resolves only those names and collections.OrderedDict and
refuses every other global, so neither torch nor code pickled into a file is ever run.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import zipfile

import numpy as np

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_DTYPES = {
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
# Checkpoints written by training scripts keep the weights under one of these keys.
_WRAPPERS = ("state_dict", "model")
_DATA_PARALLEL = "module."  # prefix of every name when nn.DataParallel's state dict was saved


class PthFormatError(ValueError):
    """A file that is not a readable torch.save'd state dict; the message names file and cause."""


class _StorageType:
    """What a pickled global torch.<Kind>Storage stands for: the element type."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)


class _Storage:
    """A storage named by a persistent id; `data` (1-D) is attached once its bytes are read."""

    def __init__(self, key, dtype, numel):
        self.key, self.dtype, self.numel = key, dtype, numel
        self.data = None

    def attach(self, raw, numel, byteorder, path):
        dtype = self.dtype.newbyteorder(byteorder)
        if numel < 0:
            raise PthFormatError(f"{path}: storage {self.key} has {numel} elements")
        if len(raw) < numel * dtype.itemsize:
            raise PthFormatError(
                f"{path}: storage {self.key} is truncated "
                f"({len(raw)} of {numel * dtype.itemsize} bytes)"
            )
        self.data = np.frombuffer(raw, dtype=dtype, count=numel)


class _Tensor:
    """The arguments of torch._utils._rebuild_tensor(_v2): storage, offset, size, stride, ..."""

    def __init__(self, storage, offset, size, stride, *_):
        self.storage, self.offset = storage, offset
        self.size, self.stride = tuple(size), tuple(stride)

    def to_numpy(self, path, name):
        flat = self.storage.data
        if flat is None:
            raise PthFormatError(f"{path}: no data for storage {self.storage.key} of {name}")
        if len(self.size) != len(self.stride):
            raise PthFormatError(f"{path}: {name} has size {self.size} but stride {self.stride}")
        if 0 not in self.size:
            # as_strided does not check bounds: a bad size/stride must not read past the storage
            last = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride))
            if self.offset < 0 or min(self.stride, default=0) < 0 or last >= flat.size:
                raise PthFormatError(
                    f"{path}: {name} (offset {self.offset}, size {self.size}, stride "
                    f"{self.stride}) reaches past its storage of {flat.size} elements"
                )
        view = np.lib.stride_tricks.as_strided(
            flat[self.offset :],
            shape=self.size,
            strides=tuple(s * flat.itemsize for s in self.stride),
        )
        return np.array(view, dtype=flat.dtype.newbyteorder("="), order="C")


def _rebuild_parameter(data, *_):
    return data


class _Unpickler(pickle.Unpickler):
    """Knows only the globals of a state dict; storages it meets are collected in `storages`
    (None: the pickle must not refer to any, as in the legacy header)."""

    def __init__(self, stream, path, storages=None):
        super().__init__(stream)
        self._path = path
        self._storages = storages

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor", "_rebuild_tensor_v2"):
            return _Tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name.endswith("Storage"):
            if name not in _STORAGE_DTYPES:
                raise PthFormatError(f"{self._path}: unsupported tensor storage type torch.{name}")
            return _StorageType(_STORAGE_DTYPES[name])
        raise PthFormatError(
            f"{self._path}: refusing to unpickle {module}.{name}; expected a state dict of plain "
            "tensors (torch.save(model.state_dict(), path))"
        )

    def persistent_load(self, pid):
        if (
            self._storages is None
            or not isinstance(pid, tuple)
            or len(pid) < 5
            or pid[0] != "storage"
            or not isinstance(pid[1], _StorageType)
        ):
            raise PthFormatError(f"{self._path}: unsupported persistent id {pid!r}")
        kind, key, _location, numel = pid[1:5]
        if len(pid) > 5 and pid[5] is not None:  # (view key, offset, size) of torch < 0.4
            raise PthFormatError(f"{self._path}: storage views are not supported")
        key = str(key)
        if key not in self._storages:
            self._storages[key] = _Storage(key, kind.dtype, numel)
        return self._storages[key]


def _read_zip(path):
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        pkl = sorted(n for n in names if n == "data.pkl" or n.endswith("/data.pkl"))
        if not pkl:
            raise PthFormatError(f"{path}: zip archive without data.pkl; not a torch.save file")
        prefix = pkl[0][: -len("data.pkl")]
        byteorder = "<"
        if prefix + "byteorder" in names:
            text = archive.read(prefix + "byteorder").decode("ascii", "replace").strip()
            if text not in ("little", "big"):
                raise PthFormatError(f"{path}: unknown byteorder {text!r}")
            byteorder = "<" if text == "little" else ">"
        storages = {}
        obj = _Unpickler(io.BytesIO(archive.read(pkl[0])), path, storages).load()
        for key, storage in storages.items():
            record = f"{prefix}data/{key}"
            if record not in names:
                raise PthFormatError(f"{path}: archive has no record {record} for storage {key}")
            storage.attach(archive.read(record), storage.numel, byteorder, path)
    return obj


def _read_legacy(path):
    with open(path, "rb") as f:
        if f.read(4) == b"PK\x03\x04":  # zip local header, yet zipfile found no directory
            raise PthFormatError(f"{path}: damaged zip archive (truncated?); no central directory")
        f.seek(0)
        if _Unpickler(f, path).load() != _LEGACY_MAGIC:
            raise PthFormatError(f"{path}: not a torch.save file (bad magic number)")
        _Unpickler(f, path).load()  # protocol version
        _Unpickler(f, path).load()  # system info
        storages = {}
        obj = _Unpickler(f, path, storages).load()
        for key in _Unpickler(f, path).load():
            storage = storages.get(str(key))
            if storage is None:
                raise PthFormatError(f"{path}: data for storage {key} that no tensor uses")
            head = f.read(8)
            if len(head) != 8:
                raise PthFormatError(f"{path}: storage {key} is truncated (no element count)")
            (numel,) = struct.unpack("<q", head)
            storage.attach(f.read(numel * storage.dtype.itemsize), numel, "<", path)
    return obj


def _state_dict(obj, path):
    if isinstance(obj, dict):
        for wrapper in _WRAPPERS:
            if isinstance(obj.get(wrapper), dict):
                obj = obj[wrapper]
    if not isinstance(obj, dict):
        raise PthFormatError(f"{path}: expected a state dict, got {type(obj).__name__}")
    out = collections.OrderedDict()
    for name, value in obj.items():
        if isinstance(value, _Tensor):  # other entries (step counts, config) are not weights
            key = name[len(_DATA_PARALLEL) :] if name.startswith(_DATA_PARALLEL) else name
            out[key] = value.to_numpy(path, name)
    if not out:
        raise PthFormatError(f"{path}: no tensors in the state dict")
    return out


def read_pth(path):
    """A torch.save'd state dict -> OrderedDict name -> NumPy array (C order, native byte order).

    Accepts both containers, a checkpoint dict holding the weights under 'state_dict' or
    'model', and strips nn.DataParallel's 'module.' prefix. Entries that are not tensors are
    dropped. Raises FileNotFoundError, or PthFormatError (a ValueError) naming file and cause.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: .pth file not found")
    try:
        obj = _read_zip(path) if zipfile.is_zipfile(path) else _read_legacy(path)
        return _state_dict(obj, path)
    except PthFormatError:
        raise
    except (
        pickle.UnpicklingError,
        zipfile.BadZipFile,
        EOFError,
        struct.error,
        AttributeError,
        IndexError,
        KeyError,
        TypeError,
        ValueError,
    ) as exc:
        raise PthFormatError(f"{path}: not a readable torch.save file ({exc})") from exc
