"""PoseResNet: a ResNet backbone, three 4x4 stride-2 deconvolutions and a 1x1 heatmap head.

Layer and attribute names follow torchvision's ResNet (conv1, bn1, layer1..layer4, downsample.0/1)
so ImageNet weights map by name (src/pretrained.py). The bottleneck puts its stride on the 3x3
convolution, as torchvision and the reference PoseResNet do.

BatchNorm momentum: MindSpore's `momentum` is the weight kept for the old running statistic,
PyTorch's the weight given to the new one, so PyTorch's 0.1 (the reference) is MindSpore's 0.9.
The MindSpore port passed 0.1, i.e. running statistics that mostly forget (DESIGN.md 6).
"""

from __future__ import annotations

from mindspore import nn, ops
from mindspore.common.initializer import HeNormal, Normal

BN_MOMENTUM = 0.9  # = PyTorch momentum 0.1

# depth -> (block kind, blocks per stage)
RESNET_SPECS = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}


def conv(cin, cout, kernel, stride=1):
    return nn.Conv2d(
        cin,
        cout,
        kernel,
        stride=stride,
        pad_mode="pad",
        padding=kernel // 2,
        has_bias=False,
        weight_init=HeNormal(mode="fan_out", nonlinearity="relu"),
    )


def bn(channels):
    return nn.BatchNorm2d(channels, momentum=BN_MOMENTUM)


class BasicBlock(nn.Cell):
    expansion = 1

    def __init__(self, cin, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv(cin, planes, 3, stride)
        self.bn1 = bn(planes)
        self.conv2 = conv(planes, planes, 3)
        self.bn2 = bn(planes)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def construct(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Cell):
    expansion = 4

    def __init__(self, cin, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv(cin, planes, 1)
        self.bn1 = bn(planes)
        self.conv2 = conv(planes, planes, 3, stride)
        self.bn2 = bn(planes)
        self.conv3 = conv(planes, planes * 4, 1)
        self.bn3 = bn(planes * 4)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def construct(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(nn.Cell):
    """ResNet without its classifier: (N, 3, H, W) -> (N, C, H/32, W/32).

    `width` is the stem's channel count (64 in every ResNet of the paper; the stages have 1, 2,
    4 and 8 times as many). Narrower networks only serve quick CPU demos.
    """

    def __init__(self, depth=50, width=64):
        super().__init__()
        if depth not in RESNET_SPECS:
            raise ValueError(f"ResNet depth must be one of {sorted(RESNET_SPECS)}, got {depth}")
        kind, counts = RESNET_SPECS[depth]
        block = Bottleneck if kind == "bottleneck" else BasicBlock
        self.conv1 = nn.Conv2d(
            3,
            width,
            7,
            stride=2,
            pad_mode="pad",
            padding=3,
            has_bias=False,
            weight_init=HeNormal(mode="fan_out", nonlinearity="relu"),
        )
        self.bn1 = bn(width)
        self.relu = nn.ReLU()
        # 3x3/2 max pool with 1 pixel of padding. Its input is post-ReLU (>= 0), so zero padding
        # equals PyTorch's -inf padding; MindSpore's padded MaxPool2d does not export to ONNX.
        self.pad = ops.Pad(((0, 0), (0, 0), (1, 1), (1, 1)))
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, pad_mode="valid")
        self.inplanes = width
        self.layer1 = self._stage(block, width, counts[0], 1)
        self.layer2 = self._stage(block, width * 2, counts[1], 2)
        self.layer3 = self._stage(block, width * 4, counts[2], 2)
        self.layer4 = self._stage(block, width * 8, counts[3], 2)
        self.out_channels = self.inplanes

    def _stage(self, block, planes, count, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.SequentialCell(
                [
                    conv(self.inplanes, planes * block.expansion, 1, stride),
                    bn(planes * block.expansion),
                ]
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, count)]
        return nn.SequentialCell(layers)

    def construct(self, x):
        x = self.maxpool(self.pad(self.relu(self.bn1(self.conv1(x)))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class PoseResNet(nn.Cell):
    """(N, 3, H, W) normalised RGB -> (N, num_joints, H/4, W/4) heatmaps."""

    def __init__(
        self,
        num_layers=50,
        num_joints=17,
        deconv_filters=(256, 256, 256),
        deconv_kernels=(4, 4, 4),
        final_conv_kernel=1,
        deconv_with_bias=False,
        width=64,
    ):
        super().__init__()
        if len(deconv_filters) != len(deconv_kernels):
            raise ValueError("deconv_filters and deconv_kernels must have the same length")
        self.backbone = ResNet(num_layers, width)
        layers, cin = [], self.backbone.out_channels
        for filters, kernel in zip(deconv_filters, deconv_kernels):
            if kernel not in (2, 3, 4):
                raise ValueError(f"deconvolution kernel must be 2, 3 or 4, got {kernel}")
            # padding and output padding that double the size exactly, as the reference
            padding, out_pad = {4: (1, 0), 3: (1, 1), 2: (0, 0)}[kernel]
            layers += [
                nn.Conv2dTranspose(
                    cin,
                    filters,
                    kernel,
                    stride=2,
                    pad_mode="pad",
                    padding=padding,
                    output_padding=out_pad,
                    has_bias=deconv_with_bias,
                    weight_init=Normal(0.001),
                    bias_init="zeros",
                ),
                bn(filters),
                nn.ReLU(),
            ]
            cin = filters
        self.deconv_layers = nn.SequentialCell(layers)
        self.final_layer = nn.Conv2d(
            cin,
            num_joints,
            final_conv_kernel,
            pad_mode="pad",
            padding=final_conv_kernel // 2,
            has_bias=True,
            weight_init=Normal(0.001),
            bias_init="zeros",
        )

    def construct(self, x):
        return self.final_layer(self.deconv_layers(self.backbone(x)))


def get_pose_net(cfg):
    """PoseResNet from a config's NETWORK and MODEL sections."""
    net = cfg.NETWORK
    return PoseResNet(
        num_layers=net.NUM_LAYERS,
        num_joints=cfg.MODEL.NUM_JOINTS,
        deconv_filters=tuple(net.NUM_DECONV_FILTERS),
        deconv_kernels=tuple(net.NUM_DECONV_KERNELS),
        final_conv_kernel=net.FINAL_CONV_KERNEL,
        deconv_with_bias=net.DECONV_WITH_BIAS,
        width=net.WIDTH,
    )


def count_params(net) -> int:
    return sum(int(p.size) for p in net.trainable_params())
