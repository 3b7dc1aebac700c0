"""ImageNet HRNet weights (`hrnet_w32-36af842e.pth`) -> MindSpore checkpoint for PoseEstNet.

python src/utils/pthtockpt.py --pth_path /path/hrnet_w32-36af842e.pth [--cfg config.yaml]
    [--ckpt_path PoseEstNet_pretrained.ckpt]

The `.pth` is read without PyTorch by posekit.pth, in either torch.save container (the zip archive
of torch >= 1.6 or the older stream).

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
import sys

import numpy as np

from posekit.pth import read_pth

_BN_FIELDS = {
    "weight": "gamma",
    "bias": "beta",
    "running_mean": "moving_mean",
    "running_var": "moving_variance",
}
HEAD = "final_layer."  # PoseEstNet's own 1x1 head; trained from scratch on keypoints


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
