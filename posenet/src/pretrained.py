"""ImageNet GoogLeNet weights from torchvision's `.pth` -> MindSpore checkpoint, without torch.

Download torchvision's GoogLeNet weights yourself (googlenet-1378be20.pth, the file
`torchvision.models.GoogLeNet_Weights.IMAGENET1K_V1` points to), then:

    python src/pretrained.py --pth googlenet-1378be20.pth --out pre_trained_googlenet_imagenet.ckpt

The `.pth` is read with a restricted unpickler that understands only what a state dict of
tensors contains (both torch.save formats: the zip archive and the legacy stream), so neither
torch nor arbitrary pickled code is ever loaded. Converted: every convolution and BatchNorm of
the trunk and of the auxiliary branches, and the auxiliary 1024-unit layers. Not converted: the
1000-class layers (PoseNet replaces them with pose regressors, which start from scratch).
Those weights expect inputs scaled to [-1, 1] (torchvision's transform_input folds the ImageNet
normalisation into that), which is what src/dataset.py feeds.
"""

import argparse
import collections
import io
import os
import pickle
import struct
import sys
import zipfile

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
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
# torchvision BatchNorm2d buffer/parameter names -> MindSpore BatchNorm2d names.
_BN_NAMES = {
    "weight": "gamma",
    "bias": "beta",
    "running_mean": "moving_mean",
    "running_var": "moving_variance",
}


class PthFormatError(ValueError):
    """A .pth file that is not a plain state dict of tensors."""


class _StorageType:
    def __init__(self, name):
        self.name = name
        self.dtype = np.dtype(_STORAGE_DTYPES[name])


class _Storage:
    def __init__(self, dtype, numel):
        self.dtype = dtype
        self.numel = numel
        self.data = None  # 1-D array, filled once the bytes have been read


class _LazyTensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def materialize(self):
        flat = self.storage.data
        if not self.size:
            return flat[self.offset : self.offset + 1].reshape(()).copy()
        item = flat.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[self.offset :],
            shape=tuple(self.size),
            strides=tuple(s * item for s in self.stride),
        )
        return np.array(view)


def _rebuild_tensor_v2(storage, offset, size, stride, *_):
    return _LazyTensor(storage, offset, size, stride)


def _rebuild_parameter(data, *_):
    return data


class _Unpickler(pickle.Unpickler):
    """Allows exactly the globals a tensor state dict needs; anything else is refused."""

    def __init__(self, stream, persistent_load, source):
        super().__init__(stream)
        self._persistent = persistent_load
        self._source = source

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise PthFormatError(
            f"{self._source}: refusing to unpickle {module}.{name}; expected a state dict of "
            "plain tensors (torch.save(model.state_dict(), path))"
        )

    def persistent_load(self, pid):
        return self._persistent(pid)


def _read_zip(path):
    with zipfile.ZipFile(path) as zf:
        pkl = [n for n in zf.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
        if not pkl:
            raise PthFormatError(f"{path}: zip archive without data.pkl; not a torch.save file")
        prefix = pkl[0][: -len("data.pkl")]
        order = "little"
        if prefix + "byteorder" in zf.namelist():
            order = zf.read(prefix + "byteorder").decode().strip()
        storages = {}

        def persistent_load(pid):
            if pid[0] != "storage":
                raise PthFormatError(f"{path}: unsupported persistent object {pid[0]!r}")
            storage_type, key, _location, numel = pid[1:5]
            if key not in storages:
                dtype = storage_type.dtype.newbyteorder("<" if order == "little" else ">")
                storage = _Storage(dtype, numel)
                raw = zf.read(f"{prefix}data/{key}")
                storage.data = np.frombuffer(raw, dtype=dtype, count=numel)
                storages[key] = storage
            return storages[key]

        with zf.open(pkl[0]) as f:
            return _Unpickler(io.BytesIO(f.read()), persistent_load, path).load()


def _read_legacy(path):
    with open(path, "rb") as f:

        def plain_load():
            return _Unpickler(f, lambda pid: None, path).load()

        if plain_load() != LEGACY_MAGIC:
            raise PthFormatError(f"{path}: not a torch.save file (bad magic number)")
        plain_load()  # protocol version
        plain_load()  # system info
        storages = {}

        def persistent_load(pid):
            if pid[0] != "storage":
                raise PthFormatError(f"{path}: unsupported persistent object {pid[0]!r}")
            storage_type, key, _location, numel = pid[1:5]
            if pid[5] is not None:
                raise PthFormatError(f"{path}: storage views are not supported")
            storages.setdefault(key, _Storage(storage_type.dtype, numel))
            return storages[key]

        result = _Unpickler(f, persistent_load, path).load()
        keys = _Unpickler(f, lambda pid: None, path).load()
        for key in keys:
            storage = storages[key]
            (numel,) = struct.unpack("<q", f.read(8))
            raw = f.read(numel * storage.dtype.itemsize)
            if len(raw) != numel * storage.dtype.itemsize:
                raise PthFormatError(f"{path}: truncated data for storage {key}")
            storage.data = np.frombuffer(raw, dtype=storage.dtype.newbyteorder("<"))
        return result


def read_pth(path):
    """A torch.save'd state dict as {name: numpy array}, without importing torch."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file")
    try:
        raw = _read_zip(path) if zipfile.is_zipfile(path) else _read_legacy(path)
    except PthFormatError:
        raise
    except (pickle.UnpicklingError, EOFError, KeyError, IndexError, TypeError, ValueError) as exc:
        raise PthFormatError(f"{path}: not a readable torch.save file ({exc})") from None
    if isinstance(raw, dict) and "state_dict" in raw and isinstance(raw["state_dict"], dict):
        raw = raw["state_dict"]
    if not isinstance(raw, dict):
        raise PthFormatError(f"{path}: expected a state dict, got {type(raw).__name__}")
    out = collections.OrderedDict()
    for name, value in raw.items():
        if isinstance(value, _LazyTensor):
            out[name] = value.materialize()
    return out


def torchvision_to_posenet(state):
    """Rename torchvision GoogLeNet weights to PoseNet parameter names (others dropped)."""
    out = collections.OrderedDict()
    for name, value in state.items():
        parts = name.split(".")
        if parts[-1] == "num_batches_tracked" or parts[0] == "fc" or parts[1:2] == ["fc2"]:
            continue
        if len(parts) >= 2 and parts[-2] == "bn":
            parts[-1] = _BN_NAMES.get(parts[-1], parts[-1])
        if not parts[0].startswith("aux"):
            parts.insert(0, "backbone")
        out[".".join(parts)] = value
    return out


def convert(pth_path, ckpt_path, image_size=224):
    """Write a MindSpore checkpoint with the converted weights; checks them against PoseNet."""
    import mindspore as ms

    from src.posenet import PoseNet

    weights = torchvision_to_posenet(read_pth(pth_path))
    net_params = {p.name: p for p in PoseNet(image_size).get_parameters()}
    unknown = [n for n in weights if n not in net_params]
    if unknown:
        raise PthFormatError(
            f"{pth_path}: {len(unknown)} weights have no PoseNet counterpart, e.g. {unknown[:3]}; "
            "expected torchvision's googlenet state dict"
        )
    for name, value in weights.items():
        if tuple(net_params[name].shape) != value.shape:
            raise PthFormatError(
                f"{pth_path}: {name} has shape {value.shape}, PoseNet expects "
                f"{tuple(net_params[name].shape)}"
            )
    missing = [n for n in net_params if _pretrainable(n) and n not in weights]
    if missing:
        raise PthFormatError(
            f"{pth_path}: {len(missing)} trunk weights missing, e.g. {missing[:3]}"
        )
    ms.save_checkpoint(
        [{"name": n, "data": ms.Tensor(v.astype(np.float32))} for n, v in weights.items()],
        ckpt_path,
    )
    return len(weights)


def _pretrainable(name):
    """Parameters that ImageNet weights provide: all but the pose regressors and main FC."""
    return not (name.startswith("head.") or ".xyz." in name or ".wpqr." in name)


def load_pretrained(net, ckpt_path):
    """Load converted ImageNet weights into `net`; every trunk parameter must be covered."""
    import mindspore as ms

    if not os.path.isfile(ckpt_path):
        raise FileNotFoundError(
            f"pre-trained file {ckpt_path} not found: convert torchvision's googlenet-1378be20.pth "
            "with `python src/pretrained.py --pth googlenet-1378be20.pth --out "
            f"{ckpt_path}`, or train from scratch with --pre_trained False"
        )
    params = ms.load_checkpoint(ckpt_path)
    names = {p.name for p in net.get_parameters()}
    missing = [n for n in names if _pretrainable(n) and n not in params]
    if missing:
        raise ValueError(f"{ckpt_path}: {len(missing)} trunk weights missing, e.g. {missing[:3]}")
    ms.load_param_into_net(net, {k: v for k, v in params.items() if k in names})
    return len(params)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pth", required=True, help="torchvision googlenet .pth (state dict)")
    p.add_argument("--out", required=True, help="MindSpore checkpoint to write")
    args = p.parse_args(argv)
    count = convert(args.pth, args.out)
    print(f"wrote {count} tensors to {args.out}")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
