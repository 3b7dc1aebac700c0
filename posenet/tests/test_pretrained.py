"""ImageNet GoogLeNet import: torchvision-layout .pth -> MindSpore, checked against PyTorch.

torch is a test-only dependency (requirements-test.txt). The PyTorch GoogLeNet below is written
independently of src/posenet.py, following torchvision's published layout and parameter names
(BasicConv2d = conv without bias + BatchNorm eps 1e-3 + ReLU; ceil-mode max pooling; the "5x5"
branch with a 3x3 kernel), so the comparison checks the conversion and the MindSpore network.
"""

import mindspore as ms
import numpy as np
import pytest
from src.posenet import PoseNet
from src.pretrained import convert, load_pretrained

from posekit.pth import read_pth

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

ms.set_context(mode=ms.GRAPH_MODE)
ms.set_device("CPU")


class TBasicConv(nn.Module):
    def __init__(self, cin, cout, **kw):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kw)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class TInception(nn.Module):
    def __init__(self, cin, c1, c3r, c3, c5r, c5, pp):
        super().__init__()
        self.branch1 = TBasicConv(cin, c1, kernel_size=1)
        self.branch2 = nn.Sequential(
            TBasicConv(cin, c3r, kernel_size=1), TBasicConv(c3r, c3, kernel_size=3, padding=1)
        )
        self.branch3 = nn.Sequential(
            TBasicConv(cin, c5r, kernel_size=1), TBasicConv(c5r, c5, kernel_size=3, padding=1)
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True), TBasicConv(cin, pp, kernel_size=1)
        )

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class TAux(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.conv = TBasicConv(cin, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, 1000)

    def features(self, x):
        x = self.conv(F.adaptive_avg_pool2d(x, (4, 4)))
        return F.relu(self.fc1(torch.flatten(x, 1)))


class TGoogLeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = TBasicConv(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = TBasicConv(64, 64, kernel_size=1)
        self.conv3 = TBasicConv(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = TInception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = TInception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = TInception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = TInception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = TInception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = TInception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = TInception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = TInception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = TInception(832, 384, 192, 384, 48, 128, 128)
        self.aux1 = TAux(512)
        self.aux2 = TAux(528)
        self.fc = nn.Linear(1024, 1000)

    def forward(self, x):
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        f4a = self.inception4a(x)
        f4d = self.inception4d(self.inception4c(self.inception4b(f4a)))
        x = self.maxpool4(self.inception4e(f4d))
        f5b = self.inception5b(self.inception5a(x))
        return self.aux1.features(f4a), self.aux2.features(f4d), f5b.mean((2, 3))


@pytest.fixture(scope="module")
def torch_net():
    torch.manual_seed(0)
    net = TGoogLeNet()
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in net.modules():  # ImageNet-like BatchNorm statistics, not the identity
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(0.1 * torch.randn(m.num_features, generator=gen))
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                m.bias.copy_(0.1 * torch.randn(m.num_features, generator=gen))
    return net.eval()


class MsFeatures(ms.nn.Cell):
    def __init__(self, net):
        super().__init__(auto_prefix=False)
        self.net = net

    def construct(self, x):
        f4a, f4d, f5b = self.net.backbone(x)
        return (
            self.aux_feat(self.net.aux1, f4a),
            self.aux_feat(self.net.aux2, f4d),
            f5b.mean((2, 3)),
        )

    def aux_feat(self, aux, x):
        n, c, h, w = x.shape
        x = ms.ops.matmul(x.reshape(n * c, h * w), aux.pool_matrix)
        x = aux.conv(x.reshape(n, c, 4, 4))
        return aux.relu(aux.fc1(x.reshape(n, -1)))


@pytest.mark.slow
@pytest.mark.parametrize("legacy", [False, True])
def test_converted_weights_match_pytorch(torch_net, tmp_path, legacy):
    pth = str(tmp_path / "googlenet.pth")
    torch.save(torch_net.state_dict(), pth, _use_new_zipfile_serialization=not legacy)
    state = read_pth(pth)
    for name, value in torch_net.state_dict().items():
        np.testing.assert_array_equal(state[name], value.numpy())
    ckpt = str(tmp_path / "googlenet.ckpt")
    # All but the 1000-class layers (6 tensors) and the 59 BatchNorm step counters.
    assert convert(pth, ckpt) == len(state) - 59 - 6

    net = PoseNet(224)
    load_pretrained(net, ckpt)
    net.set_train(False)
    x = np.random.default_rng(2).uniform(-1, 1, (2, 3, 224, 224)).astype(np.float32)
    got = [o.asnumpy() for o in MsFeatures(net)(ms.Tensor(x))]
    with torch.no_grad():
        want = [o.numpy() for o in torch_net(torch.from_numpy(x))]
    for g, w in zip(got, want):
        assert g.shape == w.shape
        assert np.abs(g - w).max() < 1e-4


def test_missing_pretrained_file_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="src/pretrained.py --pth"):
        load_pretrained(PoseNet(64), str(tmp_path / "absent.ckpt"))
