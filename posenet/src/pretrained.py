"""ImageNet GoogLeNet weights from torchvision's `.pth` -> MindSpore checkpoint, without torch.

Download torchvision's GoogLeNet weights yourself (googlenet-1378be20.pth, the file
`torchvision.models.GoogLeNet_Weights.IMAGENET1K_V1` points to), then:

    python src/pretrained.py --pth googlenet-1378be20.pth --out pre_trained_googlenet_imagenet.ckpt

The `.pth` is read by posekit.pth (both torch.save containers), which unpickles only what a
state dict of tensors contains, so neither torch nor arbitrary pickled code is ever loaded.
Converted: every convolution and BatchNorm of the trunk and of the auxiliary branches, and the
auxiliary 1024-unit layers. Not converted: the 1000-class layers (PoseNet replaces them with
pose regressors, which start from scratch). Those weights expect inputs scaled to [-1, 1]
(torchvision's transform_input folds the ImageNet normalisation into that), which is what
src/dataset.py feeds.
"""

import argparse
import collections
import os
import sys

import numpy as np

from posekit.pth import PthFormatError, read_pth

# torchvision BatchNorm2d buffer/parameter names -> MindSpore BatchNorm2d names.
_BN_NAMES = {
    "weight": "gamma",
    "bias": "beta",
    "running_mean": "moving_mean",
    "running_var": "moving_variance",
}


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
