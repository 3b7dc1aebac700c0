"""ImageNet HRNet weights (`hrnet_w32-36af842e.pth`) -> MindSpore checkpoint for PoseEstNet.

python src/utils/pthtockpt.py --pth_path /path/hrnet_w32-36af842e.pth [--cfg config.yaml]
    [--ckpt_path PoseEstNet_pretrained.ckpt]

The `.pth` is read without PyTorch: a pickled state_dict, either in the zip container torch >= 1.6
writes (`*/data.pkl` + one file per storage) or in the older stream (magic number, protocol, system
info, the pickle, the storage keys, then each storage as an int64 element count and raw bytes).
Tensors are rebuilt from (storage, offset, size, stride) as NumPy arrays.

PoseEstNet's cells carry the PyTorch names (src/model/HRNet.py), so converting is renaming the
BatchNorm fields (weight/bias/running_mean/running_var -> gamma/beta/moving_mean/
moving_variance). Every backbone parameter of the network built from --cfg must be found with
its shape, or conversion fails naming the keys (the reference port could silently load nothing);
the classification head (incre_modules, downsamp_modules, final_layer.*, classifier) and the
branches the pose network drops are reported as skipped.
"""

from __future__ import annotations

import argparse
import collections
import os
import pickle
import struct
import sys
import zipfile

import numpy as np

_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "BFloat16Storage": None, "LongStorage": np.int64, "IntStorage": np.int32,
    "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}  # fmt: skip
_BN_FIELDS = {
    "weight": "gamma",
    "bias": "beta",
    "running_mean": "moving_mean",
    "running_var": "moving_variance",
}
HEAD = "final_layer."  # PoseEstNet's own 1x1 head; trained from scratch on keypoints


class PthFormatError(ValueError):
    """A .pth file that is not a readable PyTorch state_dict; the message says why."""


class _StorageType:
    def __init__(self, name):
        dtype = _DTYPES.get(name)
        if dtype is None:
            raise PthFormatError(f"unsupported tensor storage type torch.{name}")
        self.dtype = np.dtype(dtype).newbyteorder("<")


class _Storage:
    def __init__(self, kind, key):
        self.dtype = kind.dtype
        self.key = key
        self.data = None


class _Tensor:
    """What torch._utils._rebuild_tensor_v2 receives: (storage, offset, size, stride, ...)."""

    def __init__(self, storage, offset, size, stride, *_):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), stride

    def numpy(self):
        flat = self.storage.data
        if not self.size:
            return flat[self.offset : self.offset + 1].reshape(()).copy()
        item = flat.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[self.offset :], shape=self.size, strides=tuple(s * item for s in self.stride)
        )
        return np.array(view)


class _Unpickler(pickle.Unpickler):
    """Knows only the globals a state_dict uses; storages are resolved after loading."""

    def __init__(self, file):
        super().__init__(file)
        self.storages = {}

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _Tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return lambda data, *_: data
        if module == "torch" and name.endswith("Storage"):
            return _StorageType(name)
        raise PthFormatError(f"unexpected object {module}.{name} in the pickle (not a state_dict)")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise PthFormatError(f"unexpected persistent id {pid!r}")
        kind, key = pid[1], str(pid[2])
        if key not in self.storages:
            self.storages[key] = _Storage(kind, key)
        return self.storages[key]


def _tensors(obj):
    """state_dict (possibly under 'state_dict' / 'model') -> {name: np.ndarray}."""
    if isinstance(obj, dict):
        for wrapper in ("state_dict", "model"):
            if wrapper in obj and isinstance(obj[wrapper], dict):
                obj = obj[wrapper]
    if not isinstance(obj, dict):
        raise PthFormatError(f"expected a state_dict, got {type(obj).__name__}")
    out = collections.OrderedDict()
    for name, value in obj.items():
        if isinstance(value, _Tensor):
            key = name[len("module.") :] if name.startswith("module.") else name
            out[key] = value.numpy()
    if not out:
        raise PthFormatError("no tensors in the state_dict")
    return out


def read_pth(path):
    """{name: np.ndarray} of a PyTorch state_dict file, without importing torch."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f".pth file not found: {path}")
    try:
        if zipfile.is_zipfile(path):
            return _read_zip(path)
        return _read_legacy(path)
    except (pickle.UnpicklingError, EOFError, struct.error, KeyError, ValueError) as err:
        if isinstance(err, PthFormatError):
            raise PthFormatError(f"{path}: {err}") from None
        raise PthFormatError(f"{path}: not a readable PyTorch state_dict ({err})") from None


def _read_zip(path):
    with zipfile.ZipFile(path) as archive:
        pkl = [n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
        if not pkl:
            raise PthFormatError("zip archive without data.pkl")
        prefix = pkl[0][: -len("data.pkl")]
        unpickler = _Unpickler(archive.open(pkl[0]))
        obj = unpickler.load()
        for key, storage in unpickler.storages.items():
            raw = archive.read(f"{prefix}data/{key}")
            storage.data = np.frombuffer(raw, dtype=storage.dtype)
    return _tensors(obj)


def _read_legacy(path):
    with open(path, "rb") as f:
        magic = pickle.load(f)
        if magic != 0x1950A86A20F9469CFC6C:
            raise PthFormatError("neither a zip archive nor a legacy torch.save stream")
        pickle.load(f)  # protocol version
        pickle.load(f)  # system info
        unpickler = _Unpickler(f)
        obj = unpickler.load()
        keys = pickle.load(f)
        for key in keys:
            storage = unpickler.storages[str(key)]
            (count,) = struct.unpack("<q", f.read(8))
            nbytes = count * storage.dtype.itemsize
            raw = f.read(nbytes)
            if len(raw) != nbytes:
                raise PthFormatError(f"storage {key} is truncated")
            storage.data = np.frombuffer(raw, dtype=storage.dtype)
    return _tensors(obj)


def mindspore_name(torch_name, bn_modules):
    """PyTorch parameter name -> PoseEstNet parameter name (BatchNorm fields renamed)."""
    module, _, field = torch_name.rpartition(".")
    if module in bn_modules and field in _BN_FIELDS:
        return f"{module}.{_BN_FIELDS[field]}"
    return torch_name


def convert(state_dict, net):
    """-> ({PoseEstNet name: array}, [(torch name, reason) skipped]).

    Raises ValueError when a backbone parameter of `net` has no tensor of its shape.
    """
    wanted = {p.name: tuple(p.shape) for p in net.get_parameters()}
    bn_modules = {k.rpartition(".")[0] for k in state_dict if k.endswith(".running_mean")}
    params, skipped = {}, []
    for name, value in state_dict.items():
        if name.endswith("num_batches_tracked"):
            continue
        target = mindspore_name(name, bn_modules)
        if target not in wanted:
            skipped.append((name, "not in the pose network"))
        elif tuple(value.shape) != wanted[target]:
            skipped.append((name, f"shape {tuple(value.shape)} != {wanted[target]}"))
        else:
            params[target] = np.ascontiguousarray(value, dtype=np.float32)
    missing = sorted(n for n in wanted if n not in params and not n.startswith(HEAD))
    if missing:
        raise ValueError(
            f"{len(missing)} backbone parameters have no matching tensor, e.g. {missing[:4]} "
            "(is it an HRNet of the same width as MODEL.EXTRA?)"
        )
    return params, skipped


def load_pretrained(net, path):
    """Loads ImageNet weights (a converted .ckpt or the .pth itself) into `net`'s backbone."""
    import mindspore as ms

    if path.endswith(".pth"):
        params, _ = convert(read_pth(path), net)
        tensors = {k: ms.Parameter(ms.Tensor(v), name=k) for k, v in params.items()}
    else:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"pretrained checkpoint not found: {path}")
        tensors = ms.load_checkpoint(path)
        names = {p.name for p in net.get_parameters()}
        missing = sorted(n for n in names if n not in tensors and not n.startswith(HEAD))
        if missing:
            raise ValueError(f"{path}: {len(missing)} backbone parameters missing: {missing[:4]}")
    ms.load_param_into_net(net, tensors)
    return len(tensors)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pth_path", required=True, help="official hrnet_w32-36af842e.pth")
    p.add_argument("--cfg", default="config.yaml", help="config whose MODEL.EXTRA to build")
    p.add_argument("--ckpt_path", default="PoseEstNet_pretrained.ckpt", help="output file")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    args = p.parse_args(argv)
    import mindspore as ms

    from src.config import load_config
    from src.model.HRNet import get_pose_net

    if not args.ckpt_path.endswith(".ckpt"):
        sys.exit(f"--ckpt_path must end with .ckpt, got {args.ckpt_path}")
    if os.path.exists(args.ckpt_path) and not args.overwrite:
        sys.exit(f"{args.ckpt_path} exists; pass --overwrite to replace it")
    net = get_pose_net(load_config(args.cfg))
    params, skipped = convert(read_pth(args.pth_path), net)
    by_reason = collections.Counter(reason.split(" (")[0] for _, reason in skipped)
    for name, reason in skipped[:10]:
        print(f"skipped {name}: {reason}")
    if len(skipped) > 10:
        print(f"... {len(skipped)} skipped in all: {dict(by_reason)}")
    part = args.ckpt_path[: -len(".ckpt")] + ".part.ckpt"
    ms.save_checkpoint([{"name": k, "data": ms.Tensor(v)} for k, v in params.items()], part)
    os.replace(part, args.ckpt_path)
    print(f"wrote {len(params)} tensors to {args.ckpt_path}")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    main()
