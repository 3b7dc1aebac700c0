"""ImageNet .pth import: read without torch, renamed onto PoseEstNet, equal outputs to an
independent PyTorch HRNet holding the same weights."""

import collections
import json
import os

import mindspore as ms
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from conftest import ROOT, hrnet  # noqa: E402
from src.config import load_config  # noqa: E402
from src.model.HRNet import get_pose_net  # noqa: E402
from src.utils import pthtockpt  # noqa: E402
from torch_hrnet import PoseHRNet  # noqa: E402

from posekit.pth import PthFormatError, read_pth  # noqa: E402

# small but complete: 4 branches, several modules per stage (multi-module fusion and the
# single-output last module), every block type
SMALL = hrnet(16, (8, 2), (8, 16, 32, 64), ([1, 1], [1, 2, 1], [1, 1, 1, 1]), (1, 2, 2))


def _torch_model(cfg, seed=0):
    torch.manual_seed(seed)
    model = PoseHRNet(cfg.MODEL.NUM_JOINTS, cfg.MODEL.EXTRA)
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):  # non-trivial statistics and affine terms
                m.running_mean.uniform_(-0.2, 0.2, generator=gen)
                m.running_var.uniform_(0.5, 1.5, generator=gen)
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.uniform_(-0.2, 0.2, generator=gen)
    return model.eval()


def _imagenet_style(state):
    """The official file also holds the classification head and stage-4 outputs the pose
    network does not build; they must be skipped, not loaded or fatal."""
    extra = collections.OrderedDict(state)
    extra["incre_modules.0.0.conv1.weight"] = torch.zeros(32, 8, 1, 1)
    extra["final_layer.0.weight"] = torch.zeros(2048, 1024, 1, 1)
    extra["final_layer.1.running_mean"] = torch.zeros(2048)
    extra["classifier.weight"] = torch.zeros(1000, 2048)
    extra["stage4.1.fuse_layers.1.0.0.0.weight"] = torch.zeros(16, 8, 3, 3)
    return extra


@pytest.mark.parametrize("zip_format", [True, False])
def test_pth_import_gives_the_outputs_of_an_independent_pytorch_hrnet(tmp_path, zip_format):
    ms.set_context(mode=ms.PYNATIVE_MODE)
    cfg = load_config(None, SMALL)
    model = _torch_model(cfg)
    path = str(tmp_path / "hrnet.pth")
    torch.save(_imagenet_style(model.state_dict()), path, _use_new_zipfile_serialization=zip_format)

    state = read_pth(path)
    for key, value in model.state_dict().items():
        assert np.array_equal(state[key], value.numpy()), key
    net = get_pose_net(cfg)
    params, skipped = pthtockpt.convert(state, net)
    skipped_names = {name for name, _ in skipped}
    assert {"incre_modules.0.0.conv1.weight", "classifier.weight"} <= skipped_names
    assert "final_layer.0.weight" in skipped_names
    assert len(params) == len(list(net.get_parameters()))  # head included: same shapes here
    ms.load_param_into_net(net, {k: ms.Parameter(ms.Tensor(v), name=k) for k, v in params.items()})
    net.set_train(False)

    x = np.random.default_rng(0).standard_normal((2, 3, 96, 64)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    got = net(ms.Tensor(x)).asnumpy()
    assert got.shape == expected.shape == (2, 36, 24, 16)
    assert np.abs(got - expected).max() < 1e-4 * max(1.0, np.abs(expected).max())


def test_conversion_cli_and_load_pretrained(tmp_path):
    cfg_path = tmp_path / "small.yaml"
    cfg = load_config(None, SMALL)
    cfg_path.write_text(json.dumps({"MODEL": {"EXTRA": cfg.MODEL.EXTRA}}))  # JSON is YAML
    model = _torch_model(cfg, seed=3)
    state = model.state_dict()
    del state["final_layer.weight"], state["final_layer.bias"]  # an ImageNet file has no head
    pth = tmp_path / "hrnet_w8.pth"
    torch.save(state, str(pth))
    out = tmp_path / "pre.ckpt"
    pthtockpt.main(["--pth_path", str(pth), "--cfg", str(cfg_path), "--ckpt_path", str(out)])
    assert out.is_file() and not list(tmp_path.glob("*.part.ckpt"))
    with pytest.raises(SystemExit, match="exists"):
        pthtockpt.main(["--pth_path", str(pth), "--cfg", str(cfg_path), "--ckpt_path", str(out)])
    net = get_pose_net(cfg)
    assert pthtockpt.load_pretrained(net, str(out)) == len(state) - sum(
        k.endswith("num_batches_tracked") for k in state
    )
    weights = {p.name: p.asnumpy() for p in net.get_parameters()}
    assert np.array_equal(weights["layer1.0.bn1.gamma"], state["layer1.0.bn1.weight"].numpy())
    assert np.array_equal(
        weights["stage3.1.fuse_layers.2.0.1.1.moving_variance"],
        state["stage3.1.fuse_layers.2.0.1.1.running_var"].numpy(),
    )


def test_a_mismatched_backbone_is_an_error_naming_keys(tmp_path):
    cfg = load_config(None, SMALL)
    state = {k: v.numpy() for k, v in _torch_model(cfg).state_dict().items()}
    del state["stage2.0.branches.1.0.conv1.weight"]
    with pytest.raises(ValueError, match=r"backbone parameters have no matching tensor.*stage2"):
        pthtockpt.convert(state, get_pose_net(cfg))
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a pickle at all")
    with pytest.raises(PthFormatError, match="bad.pth"):
        read_pth(str(bad))


def test_every_w32_backbone_tensor_has_its_place():
    # HRNet-W32 as in config.yaml: the full key set of the official layout maps onto the network
    cfg = load_config(os.path.join(ROOT, "config.yaml"))
    state = {k: v.numpy() for k, v in PoseHRNet(36, cfg.MODEL.EXTRA).state_dict().items()}
    net = get_pose_net(cfg)
    params, skipped = pthtockpt.convert(state, net)
    assert skipped == [] and len(params) == len(list(net.get_parameters())) == 1462
    assert sum(v.size for k, v in params.items() if "moving" not in k) == 28536740
