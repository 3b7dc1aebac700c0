"""PoseNet (Kendall et al., ICCV 2015): GoogLeNet with three pose regressors.

The backbone is GoogLeNet with batch normalisation (eps 1e-3) after every convolution, laid out
like torchvision's `googlenet` so that its ImageNet weights load one to one
(`src/pretrained.py`): ceil-mode max pooling, no LRN, and the "5x5" inception branch with a 3x3
kernel (torchvision's known deviation; `b3_kernel=5` builds the paper's kernel instead, which
cannot take those weights). Each auxiliary branch pools inception 4a / 4d to 4x4 (adaptive, as
torchvision; the paper's 5x5/3 average pool gives the same 4x4 grid at 224 px), applies a
128-channel 1x1 convolution and a 1024-unit layer, then regresses xyz (3) and wpqr (4). The main
branch averages inception 5b globally, adds the 2048-unit feature layer (the paper's change)
and regresses xyz and wpqr. The quaternion is normalised only at test time (`PoseNetPredictor`).

Parameter count: 12.06 M trainable (12.44 M with b3_kernel=5). The seed's 10.7 M comes from its
port sharing one set of auxiliary fully connected weights between both auxiliary branches.
"""

import mindspore as ms
import numpy as np
from mindspore import nn, ops
from mindspore.common.initializer import TruncatedNormal

# (in, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj), GoogLeNet table 1.
INCEPTION = {
    "inception3a": (192, 64, 96, 128, 16, 32, 32),
    "inception3b": (256, 128, 128, 192, 32, 96, 64),
    "inception4a": (480, 192, 96, 208, 16, 48, 64),
    "inception4b": (512, 160, 112, 224, 24, 64, 64),
    "inception4c": (512, 128, 128, 256, 24, 64, 64),
    "inception4d": (512, 112, 144, 288, 32, 64, 64),
    "inception4e": (528, 256, 160, 320, 32, 128, 128),
    "inception5a": (832, 256, 160, 320, 32, 128, 128),
    "inception5b": (832, 384, 192, 384, 48, 128, 128),
}
AUX_POOL = 4  # auxiliary branches pool to 4x4 before the 1x1 convolution


class BasicConv2d(nn.Cell):
    """Convolution (no bias) + BatchNorm (eps 1e-3) + ReLU."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            pad_mode="pad" if padding else "valid",
            padding=padding,
            weight_init=TruncatedNormal(0.02),
        )
        self.bn = nn.BatchNorm2d(out_channels, eps=1e-3, momentum=0.9)
        self.relu = nn.ReLU()

    def construct(self, x):
        return self.relu(self.bn(self.conv(x)))


def ceil_max_pool(kernel, stride):
    """Max pooling equal to torchvision's ceil_mode=True pooling for even input sizes.

    With an even input, "same" padding adds its one extra row/column at the bottom/right only,
    which is exactly the window ceil mode lets hang over the edge. PoseNet requires the image size
    to be a multiple of 32, so every pooled map is even. (MindSpore's own ceil_mode pooling cannot
    be exported to ONNX, and explicit Pad + pooling made CPU training hang.)
    """
    return nn.MaxPool2d(kernel_size=kernel, stride=stride, pad_mode="same")


class Inception(nn.Cell):
    def __init__(self, in_ch, ch1, ch3red, ch3, ch5red, ch5, pool_proj, b3_kernel=3):
        super().__init__()
        self.branch1 = BasicConv2d(in_ch, ch1, 1)
        self.branch2 = nn.SequentialCell(
            [BasicConv2d(in_ch, ch3red, 1), BasicConv2d(ch3red, ch3, 3, padding=1)]
        )
        self.branch3 = nn.SequentialCell(
            [
                BasicConv2d(in_ch, ch5red, 1),
                BasicConv2d(ch5red, ch5, b3_kernel, padding=b3_kernel // 2),
            ]
        )
        # 3x3 stride-1 max pool with symmetric padding 1: "same" padding is exactly that.
        self.branch4 = nn.SequentialCell(
            [
                nn.MaxPool2d(kernel_size=3, stride=1, pad_mode="same"),
                BasicConv2d(in_ch, pool_proj, 1),
            ]
        )

    def construct(self, x):
        return ops.concat((self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)), 1)


class GoogLeNet(nn.Cell):
    """The convolutional trunk; returns the inception 4a, 4d and 5b feature maps."""

    def __init__(self, b3_kernel=3):
        super().__init__()
        self.conv1 = BasicConv2d(3, 64, 7, stride=2, padding=3)
        self.maxpool1 = ceil_max_pool(3, 2)
        self.conv2 = BasicConv2d(64, 64, 1)
        self.conv3 = BasicConv2d(64, 192, 3, padding=1)
        self.maxpool2 = ceil_max_pool(3, 2)
        self.inception3a = Inception(*INCEPTION["inception3a"], b3_kernel=b3_kernel)
        self.inception3b = Inception(*INCEPTION["inception3b"], b3_kernel=b3_kernel)
        self.maxpool3 = ceil_max_pool(3, 2)
        self.inception4a = Inception(*INCEPTION["inception4a"], b3_kernel=b3_kernel)
        self.inception4b = Inception(*INCEPTION["inception4b"], b3_kernel=b3_kernel)
        self.inception4c = Inception(*INCEPTION["inception4c"], b3_kernel=b3_kernel)
        self.inception4d = Inception(*INCEPTION["inception4d"], b3_kernel=b3_kernel)
        self.inception4e = Inception(*INCEPTION["inception4e"], b3_kernel=b3_kernel)
        self.maxpool4 = ceil_max_pool(2, 2)
        self.inception5a = Inception(*INCEPTION["inception5a"], b3_kernel=b3_kernel)
        self.inception5b = Inception(*INCEPTION["inception5b"], b3_kernel=b3_kernel)

    def construct(self, x):
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        f4a = self.inception4a(x)
        f4d = self.inception4d(self.inception4c(self.inception4b(f4a)))
        x = self.maxpool4(self.inception4e(f4d))
        f5b = self.inception5b(self.inception5a(x))
        return f4a, f4d, f5b


def check_image_size(image_size):
    if image_size < 64 or image_size % 32:
        raise ValueError(f"image_size must be a multiple of 32 and at least 64, got {image_size}")


def adaptive_pool_matrix(size, out):
    """(size*size, out*out) matrix averaging like PyTorch's adaptive_avg_pool2d.

    Window i spans [floor(i*size/out), ceil((i+1)*size/out)). Pooling as a constant matrix
    product works for any input size and exports to ONNX as a plain MatMul.
    """
    m = np.zeros((size, size, out, out), np.float32)
    for i in range(out):
        r0, r1 = (i * size) // out, -((-(i + 1) * size) // out)
        for j in range(out):
            c0, c1 = (j * size) // out, -((-(j + 1) * size) // out)
            m[r0:r1, c0:c1, i, j] = 1.0 / ((r1 - r0) * (c1 - c0))
    return m.reshape(size * size, out * out)


class AuxRegressor(nn.Cell):
    """Auxiliary branch: 4x4 average pool, 1x1 conv (128), FC 1024, dropout 0.7, xyz and wpqr."""

    def __init__(self, in_channels, map_size):
        super().__init__()
        self.pool_matrix = ms.Tensor(adaptive_pool_matrix(map_size, AUX_POOL))
        self.conv = BasicConv2d(in_channels, 128, 1)
        self.fc1 = nn.Dense(128 * AUX_POOL * AUX_POOL, 1024)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(p=0.7)
        self.xyz = nn.Dense(1024, 3)
        self.wpqr = nn.Dense(1024, 4)

    def construct(self, x):
        n, c, h, w = x.shape
        x = ops.matmul(x.reshape(n * c, h * w), self.pool_matrix)
        x = self.conv(x.reshape(n, c, AUX_POOL, AUX_POOL))
        x = self.dropout(self.relu(self.fc1(x.reshape(n, -1))))
        return self.xyz(x), self.wpqr(x)


class MainRegressor(nn.Cell):
    """Main branch: global average pool (1024), 2048-d feature layer, dropout 0.5, xyz and wpqr."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Dense(1024, 2048)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(p=0.5)
        self.xyz = nn.Dense(2048, 3)
        self.wpqr = nn.Dense(2048, 4)

    def construct(self, f5b):
        x = self.dropout(self.relu(self.fc(ops.mean(f5b, (2, 3)))))
        return self.xyz(x), self.wpqr(x)


class PoseNet(nn.Cell):
    """Returns (xyz1, wpqr1, xyz2, wpqr2, xyz3, wpqr3): auxiliary 1, auxiliary 2, main."""

    def __init__(self, image_size=224, b3_kernel=3):
        super().__init__()
        check_image_size(image_size)
        s4 = image_size // 16  # inception 4a-4d maps
        self.backbone = GoogLeNet(b3_kernel=b3_kernel)
        self.aux1 = AuxRegressor(512, s4)
        self.aux2 = AuxRegressor(528, s4)
        self.head = MainRegressor()

    def construct(self, x):
        f4a, f4d, f5b = self.backbone(x)
        xyz1, wpqr1 = self.aux1(f4a)
        xyz2, wpqr2 = self.aux2(f4d)
        xyz3, wpqr3 = self.head(f5b)
        return xyz1, wpqr1, xyz2, wpqr2, xyz3, wpqr3

    def init_position_bias(self, mean_xyz):
        """Start every xyz regressor at the mean training position (bias), not at the origin."""
        for dense in (self.aux1.xyz, self.aux2.xyz, self.head.xyz):
            dense.bias.set_data(ms.Tensor(np.asarray(mean_xyz, np.float32).reshape(3)))


class PoseNetPredictor(nn.Cell):
    """Test-time network: main branch only, (N, 7) = xyz and the normalised w-first quaternion."""

    def __init__(self, net):
        super().__init__(auto_prefix=False)
        self.net = net

    def construct(self, x):
        _, _, f5b = self.net.backbone(x)
        xyz, wpqr = self.net.head(f5b)
        norm = ops.sqrt((wpqr * wpqr).sum(axis=1, keepdims=True)) + 1e-12
        return ops.concat((xyz, wpqr / norm), 1)


def count_parameters(net):
    return int(sum(np.prod(p.shape) for p in net.trainable_params()))


def forward_macs(image_size=224, b3_kernel=3):
    """Multiply-accumulates of one training-mode forward pass (all three branches), analytic.

    Convolutions and fully connected layers only (BatchNorm, pooling and ReLU are negligible).
    """
    s2, s4, s8, s16, s32 = (image_size // d for d in (2, 4, 8, 16, 32))
    macs = s2 * s2 * 3 * 64 * 49  # conv1 7x7/2
    macs += s4 * s4 * (64 * 64 + 64 * 192 * 9)  # conv2 1x1, conv3 3x3
    sizes = {"3": s8, "4": s16, "5": s32}
    for name, (cin, c1, c3r, c3, c5r, c5, pp) in INCEPTION.items():
        s = sizes[name[len("inception")]]
        per_pixel = cin * (c1 + c3r + c5r + pp) + c3r * c3 * 9 + c5r * c5 * b3_kernel**2
        macs += s * s * per_pixel
    aux = 512 * 128 * 16 + 528 * 128 * 16 + 2 * (2048 * 1024 + 1024 * 7)
    head = 1024 * 2048 + 2048 * 7
    return macs + aux + head
