"""posekit.pth: torch.save files read without torch.

The files are written here by a small independent writer that emits the protocol-2 pickle
opcodes by hand, as torch.save lays them out (persistent ids for storages, the tensor rebuilt by
torch._utils._rebuild_tensor_v2), in both containers. If torch is installed, real torch.save
files are compared as well.
"""

import collections
import io
import os
import pickle
import struct
import zipfile

import numpy as np
import pytest

from posekit.pth import PthFormatError, read_pth

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
STORAGE_KINDS = {
    np.dtype(np.float32): "FloatStorage",
    np.dtype(np.float64): "DoubleStorage",
    np.dtype(np.float16): "HalfStorage",
    np.dtype(np.int64): "LongStorage",
    np.dtype(np.int32): "IntStorage",
    np.dtype(np.int16): "ShortStorage",
    np.dtype(np.int8): "CharStorage",
    np.dtype(np.uint8): "ByteStorage",
    np.dtype(np.bool_): "BoolStorage",
}


# --- writer -------------------------------------------------------------------------------


class Global:
    def __init__(self, module, name):
        self.module, self.name = module, name


class Reduce:
    """callable(*args), then `items` set on the result (how an OrderedDict is pickled)."""

    def __init__(self, func, args, items=None):
        self.func, self.args, self.items = func, args, items


class PersistentId:
    def __init__(self, pid):
        self.pid = pid


ORDERED_DICT = Global("collections", "OrderedDict")


def ordered_dict(items):
    return Reduce(ORDERED_DICT, (), items)


def emit(value, out):
    """Protocol-2 opcodes for `value` (None, bool, int, str, tuple, list, dict, the above)."""
    if value is None:
        out += b"N"
    elif value is True or value is False:
        out += b"\x88" if value else b"\x89"
    elif isinstance(value, int):
        if 0 <= value < 256:
            out += b"K" + bytes([value])
        elif -(2**31) <= value < 2**31:
            out += b"J" + struct.pack("<i", value)
        else:
            data = value.to_bytes(value.bit_length() // 8 + 1, "little", signed=True)
            out += b"\x8a" + bytes([len(data)]) + data
    elif isinstance(value, str):
        data = value.encode("utf-8")
        out += b"X" + struct.pack("<I", len(data)) + data
    elif isinstance(value, tuple):
        out += b"("
        for v in value:
            emit(v, out)
        out += b"t"
    elif isinstance(value, list):
        out += b"]("
        for v in value:
            emit(v, out)
        out += b"e"
    elif isinstance(value, dict):
        out += b"}"
        emit_items(value, out)
    elif isinstance(value, Global):
        out += b"c" + f"{value.module}\n{value.name}\n".encode("ascii")
    elif isinstance(value, Reduce):
        emit(value.func, out)
        emit(value.args, out)
        out += b"R"
        if value.items:
            emit_items(value.items, out)
    elif isinstance(value, PersistentId):
        emit(value.pid, out)
        out += b"Q"
    else:
        raise TypeError(type(value))


def emit_items(items, out):
    out += b"("
    for k, v in items.items():
        emit(k, out)
        emit(v, out)
    out += b"u"


def dumps(value):
    out = bytearray(b"\x80\x02")
    emit(value, out)
    return bytes(out + b".")


class Storage:
    def __init__(self, key, array):
        self.key, self.array = key, np.ascontiguousarray(array).ravel()


def tensor(storage, offset, size, stride, legacy, rebuild="_rebuild_tensor_v2"):
    pid = ("storage", Global("torch", STORAGE_KINDS[storage.array.dtype]), storage.key, "cpu")
    pid += (storage.array.size,) + ((None,) if legacy else ())
    args = (PersistentId(pid), offset, tuple(size), tuple(stride))
    if rebuild == "_rebuild_tensor_v2":
        args += (False, ordered_dict(None))
    return Reduce(Global("torch._utils", rebuild), args)


def write_zip(path, obj, storages, byteorder="little", archive="archive"):
    order = "<" if byteorder == "little" else ">"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{archive}/data.pkl", dumps(obj))
        zf.writestr(f"{archive}/byteorder", byteorder)
        for s in storages:
            zf.writestr(
                f"{archive}/data/{s.key}",
                s.array.astype(s.array.dtype.newbyteorder(order)).tobytes(),
            )
        zf.writestr(f"{archive}/version", "3\n")


def write_legacy(path, obj, storages):
    sys_info = {"protocol_version": 1001, "little_endian": True}
    sys_info["type_sizes"] = {"short": 2, "int": 4, "long": 4}
    with open(path, "wb") as f:
        for part in (LEGACY_MAGIC, 1001, sys_info, obj):
            f.write(dumps(part))
        f.write(dumps(sorted(s.key for s in storages)))
        for s in sorted(storages, key=lambda s: s.key):
            f.write(struct.pack("<q", s.array.size))
            f.write(s.array.astype(s.array.dtype.newbyteorder("<")).tobytes())


def write(path, obj, storages, legacy):
    if legacy:
        write_legacy(path, obj, storages)
    else:
        write_zip(path, obj, storages)
    return str(path)


# --- a small state dict in both containers --------------------------------------------------

GRID = np.arange(12, dtype=np.float32).reshape(3, 4) / 7


def sample(legacy):
    """-> (pickled object, storages, the arrays read_pth must return)."""
    s_grid = Storage("0", GRID)
    s_f64 = Storage("1", np.linspace(-1, 1, 5))
    s_count = Storage("2", np.array([7], np.int64))
    s_half = Storage("3", np.array([0.5, -2, 65504, 1e-3], np.float16))
    s_mask = Storage("4", np.array([True, False, True]))
    s_int = Storage("5", np.array([-3, 2**31 - 1, 9], np.int32))

    def t(storage, offset, size, stride, **kw):
        return tensor(storage, offset, size, stride, legacy, **kw)

    state = collections.OrderedDict()
    state["conv.weight"] = t(s_grid, 0, (3, 4), (4, 1))
    state["conv.weight_t"] = t(s_grid, 0, (4, 3), (1, 4))  # transposed view of the same storage
    state["conv.row"] = t(s_grid, 5, (2, 2), (4, 2))  # offset and strides
    state["fc.bias"] = Reduce(  # an nn.Parameter
        Global("torch._utils", "_rebuild_parameter"), (t(s_f64, 1, (3,), (1,)), True, {})
    )
    state["bn.num_batches_tracked"] = t(s_count, 0, (), ())
    state["half"] = t(s_half, 0, (2, 2), (2, 1), rebuild="_rebuild_tensor")
    state["mask"] = t(s_mask, 0, (3,), (1,))
    state["ints"] = t(s_int, 0, (3,), (1,))
    state["empty"] = t(s_int, 3, (0, 5), (5, 1))
    want = collections.OrderedDict(
        [
            ("conv.weight", GRID),
            ("conv.weight_t", GRID.T),
            ("conv.row", GRID[1:3, 1::2]),
            ("fc.bias", np.linspace(-1, 1, 5)[1:4]),
            ("bn.num_batches_tracked", np.array(7, np.int64)),
            ("half", np.array([[0.5, -2], [65504, 1e-3]], np.float16)),
            ("mask", np.array([True, False, True])),
            ("ints", np.array([-3, 2**31 - 1, 9], np.int32)),
            ("empty", np.zeros((0, 5), np.int32)),
        ]
    )
    return ordered_dict(state), [s_grid, s_f64, s_count, s_half, s_mask, s_int], want


def check(got, want):
    assert list(got) == list(want)
    for name, value in want.items():
        assert got[name].dtype == value.dtype, name
        assert got[name].shape == value.shape, name
        assert got[name].flags.c_contiguous, name
        np.testing.assert_array_equal(got[name], value, err_msg=name)


@pytest.mark.parametrize("legacy", [False, True])
def test_reads_both_containers(tmp_path, legacy):
    obj, storages, want = sample(legacy)
    check(read_pth(write(tmp_path / "w.pth", obj, storages, legacy)), want)


def test_big_endian_zip_comes_back_in_native_byte_order(tmp_path):
    obj, storages, want = sample(False)
    path = str(tmp_path / "be.pth")
    write_zip(path, obj, storages, byteorder="big")
    got = read_pth(path)
    check(got, want)
    assert got["conv.weight"].dtype.isnative


@pytest.mark.parametrize("legacy", [False, True])
def test_checkpoint_wrappers_and_data_parallel_prefix(tmp_path, legacy):
    s = Storage("0", GRID)
    weights = {"module.conv.weight": tensor(s, 0, (3, 4), (4, 1), legacy), "module.step": 3}
    for wrapper in ("state_dict", "model"):
        obj = {"epoch": 12, "best": "x", wrapper: weights}
        got = read_pth(write(tmp_path / f"{wrapper}.pth", obj, [s], legacy))
        assert list(got) == ["conv.weight"]  # non-tensor entries are dropped
        np.testing.assert_array_equal(got["conv.weight"], GRID)


# --- errors ----------------------------------------------------------------------------------


def test_truncated_files(tmp_path):
    obj, storages, _ = sample(False)
    good = write(tmp_path / "z.pth", obj, storages, legacy=False)
    data = open(good, "rb").read()
    (tmp_path / "cut_zip.pth").write_bytes(data[: len(data) // 2])
    with pytest.raises(PthFormatError, match=r"cut_zip\.pth: damaged zip archive \(truncated\?\)"):
        read_pth(str(tmp_path / "cut_zip.pth"))

    obj, storages, _ = sample(True)
    good = write(tmp_path / "l.pth", obj, storages, legacy=True)
    data = open(good, "rb").read()
    (tmp_path / "cut_data.pth").write_bytes(data[:-3])  # inside the last storage's bytes
    with pytest.raises(PthFormatError, match=r"cut_data\.pth: storage 5 is truncated"):
        read_pth(str(tmp_path / "cut_data.pth"))
    (tmp_path / "cut_count.pth").write_bytes(data[: -3 * 4 - 4])  # inside an element count
    with pytest.raises(PthFormatError, match=r"cut_count\.pth: storage 5 is truncated"):
        read_pth(str(tmp_path / "cut_count.pth"))
    (tmp_path / "cut_pickle.pth").write_bytes(data[:60])
    with pytest.raises(PthFormatError, match=r"cut_pickle\.pth: not a readable torch\.save file"):
        read_pth(str(tmp_path / "cut_pickle.pth"))


def test_zip_storage_shorter_than_its_tensor(tmp_path):
    s = Storage("0", GRID)
    path = str(tmp_path / "short.pth")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a/data.pkl", dumps({"w": tensor(s, 0, (3, 4), (4, 1), False)}))
        zf.writestr("a/data/0", GRID.tobytes()[:20])
    with pytest.raises(PthFormatError, match=r"short\.pth: storage 0 is truncated \(20 of 48"):
        read_pth(path)
    with zipfile.ZipFile(path, "w") as zf:  # tensor larger than the storage it names
        zf.writestr("a/data.pkl", dumps({"w": tensor(s, 2, (3, 4), (4, 1), False)}))
        zf.writestr("a/data/0", GRID.tobytes())
    with pytest.raises(PthFormatError, match=r"short\.pth: w \(offset 2.*reaches past"):
        read_pth(path)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a/data.pkl", dumps({"w": tensor(s, 0, (3, 4), (4, 1), False)}))
    with pytest.raises(PthFormatError, match=r"short\.pth: archive has no record a/data/0"):
        read_pth(path)


def test_not_a_pth_file(tmp_path):
    cases = {
        "text.pth": (b"not a checkpoint", r"not a readable torch\.save file"),
        "plain.pth": (pickle.dumps({"w": 1}, protocol=2), r"not a torch\.save file \(bad magic"),
        "empty.pth": (b"", r"not a readable torch\.save file"),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(PthFormatError, match=name.replace(".", r"\.") + ": " + message):
            read_pth(str(tmp_path / name))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("model/weights.bin", b"\0" * 8)
    (tmp_path / "other.zip").write_bytes(buf.getvalue())
    with pytest.raises(PthFormatError, match=r"other\.zip: zip archive without data\.pkl"):
        read_pth(str(tmp_path / "other.zip"))
    with pytest.raises(FileNotFoundError, match="absent.pth"):
        read_pth(str(tmp_path / "absent.pth"))
    assert issubclass(PthFormatError, ValueError)


def test_refuses_code_and_what_is_not_a_state_dict(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        for part in (LEGACY_MAGIC, 1001, {}, {"w": Evil()}):
            pickle.dump(part, f, protocol=2)
    with pytest.raises(PthFormatError, match=r"evil\.pth: refusing to unpickle (posix|nt)\.system"):
        read_pth(str(path))

    s = Storage("0", GRID)
    w = tensor(s, 0, (12,), (1,), legacy=False)
    path = str(tmp_path / "list.pth")
    write_zip(path, [w], [s])
    with pytest.raises(PthFormatError, match=r"list\.pth: expected a state dict, got list"):
        read_pth(path)
    write_zip(path, {"epoch": 3}, [])
    with pytest.raises(PthFormatError, match=r"list\.pth: no tensors in the state dict"):
        read_pth(path)
    bf16 = Reduce(
        Global("torch._utils", "_rebuild_tensor_v2"),
        (
            PersistentId(("storage", Global("torch", "BFloat16Storage"), "0", "cpu", 2)),
            0,
            (2,),
            (1,),
            False,
            {},
        ),
    )
    write_zip(path, {"w": bf16}, [])
    with pytest.raises(PthFormatError, match=r"unsupported tensor storage type torch\.BFloat16"):
        read_pth(path)


# --- real torch.save files ---------------------------------------------------------------------


@pytest.mark.parametrize("zip_format", [True, False])
def test_matches_torch_save(tmp_path, zip_format):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    state = net.state_dict()
    base = torch.randn(5, 6, dtype=torch.float64)
    extra = {
        "t": base.t(),  # non-contiguous views of one storage
        "slice": base[1:4, ::2],
        "half": torch.randn(3, 2).half(),
        "long": torch.arange(-3, 3),
        "int": torch.arange(4, dtype=torch.int32),
        "byte": torch.arange(250, 256, dtype=torch.uint8),
        "bool": torch.tensor([True, False]),
        "scalar": torch.tensor(2.5),
    }
    for name, value in extra.items():
        state[name] = value
    path = str(tmp_path / "real.pth")
    torch.save(state, path, _use_new_zipfile_serialization=zip_format)
    got = read_pth(path)
    assert list(got) == list(state)
    for name, value in state.items():
        want = value.numpy()
        assert got[name].dtype == want.dtype and got[name].shape == want.shape, name
        np.testing.assert_array_equal(got[name], want, err_msg=name)

    torch.save({"epoch": 4, "state_dict": {"module." + k: v for k, v in state.items()}}, path)
    assert list(read_pth(path)) == list(state)
