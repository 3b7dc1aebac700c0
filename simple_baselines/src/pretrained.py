"""ImageNet ResNet weights for the backbone: torchvision `.pth` files (read without torch) or
MindSpore `.ckpt` files.

A `.pth` is a pickled state_dict, read by posekit.pth in either torch.save container: the zip
archive of torch >= 1.6 or the older stream, of which torchvision's original
resnet50-19c8e357.pth is.

The reference MindSpore port silently skipped the ImageNet weights (DESIGN.md 6); here every
backbone weight must be found with the right shape, or loading fails naming the keys.
"""

from __future__ import annotations

import mindspore as ms
import numpy as np

from posekit.pth import read_pth


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
        for name, value in read_pth(path).items():
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
