"""ImageNet import: an independent PyTorch ResNet-50 (torchvision's layout, written here with
torch.nn primitives) saves a .pth; our reader (no torch) loads it into the MindSpore backbone,
and both networks must give the same features."""

import mindspore as ms
import numpy as np
import pytest

torch = pytest.importorskip("torch")
from src.pose_resnet import ResNet  # noqa: E402
from src.pretrained import load_imagenet_backbone  # noqa: E402
from torch import nn as tnn  # noqa: E402

from posekit.pth import read_pth  # noqa: E402

ms.set_context(mode=ms.PYNATIVE_MODE)


class TorchBottleneck(tnn.Module):
    def __init__(self, cin, planes, stride, down):
        super().__init__()
        self.conv1 = tnn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.conv2 = tnn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.conv3 = tnn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = tnn.BatchNorm2d(planes * 4)
        self.downsample = (
            tnn.Sequential(
                tnn.Conv2d(cin, planes * 4, 1, stride, bias=False), tnn.BatchNorm2d(planes * 4)
            )
            if down
            else None
        )

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        out = torch.relu(self.bn1(self.conv1(x)))
        out = torch.relu(self.bn2(self.conv2(out)))
        return torch.relu(self.bn3(self.conv3(out)) + idt)


class TorchResNet50(tnn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        cin, stages = 64, []
        for planes, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
            layers = [TorchBottleneck(cin, planes, stride, True)]
            cin = planes * 4
            layers += [TorchBottleneck(cin, planes, 1, False) for _ in range(blocks - 1)]
            stages.append(tnn.Sequential(*layers))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = tnn.Linear(2048, 1000)

    def features(self, x):
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


@pytest.fixture(scope="module")
def torch_net():
    torch.manual_seed(0)
    net = TorchResNet50()
    with torch.no_grad():  # non-trivial BN statistics so the mapping of all four is tested
        for m in net.modules():
            if isinstance(m, tnn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 2.0)
    return net.eval()


@pytest.mark.parametrize("zip_format", [True, False])
def test_pth_import_gives_identical_features(torch_net, tmp_path, zip_format):
    path = str(tmp_path / "resnet50.pth")
    torch.save(torch_net.state_dict(), path, _use_new_zipfile_serialization=zip_format)
    state = read_pth(path)
    ref = torch_net.state_dict()
    assert set(state) == set(ref)
    np.testing.assert_array_equal(
        state["layer2.0.bn1.running_var"], ref["layer2.0.bn1.running_var"].numpy()
    )
    assert state["bn1.num_batches_tracked"].dtype == np.int64

    backbone = ResNet(50)
    load_imagenet_backbone(backbone, path)
    backbone.set_train(False)
    x = np.random.default_rng(1).normal(size=(2, 3, 96, 64)).astype(np.float32)
    with torch.no_grad():
        expected = torch_net.features(torch.from_numpy(x)).numpy()
    got = backbone(ms.Tensor(x)).asnumpy()
    assert got.shape == expected.shape == (2, 2048, 3, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-3 * np.abs(expected).max())


def test_import_refuses_a_mismatched_network(torch_net, tmp_path):
    path = str(tmp_path / "resnet50.pth")
    torch.save(torch_net.state_dict(), path)
    with pytest.raises(ValueError, match="backbone weights not found|has shape"):
        load_imagenet_backbone(ResNet(18), path)
    with pytest.raises(FileNotFoundError):
        load_imagenet_backbone(ResNet(50), str(tmp_path / "missing.pth"))
