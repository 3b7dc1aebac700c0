"""HRNet (Sun et al., CVPR 2019) as PAMTRI's PoseEstNet: 36 vehicle keypoint heatmaps.

Stem (two 3x3 stride-2 convolutions, 64 channels) -> stage 1 (4 bottlenecks, 256 channels) ->
stages 2/3/4 with 2/3/4 parallel branches of basic blocks (W32: 32/64/128/256 channels; 1/4/3
high-resolution modules), repeated multi-scale fusion, and a 1x1 head on the highest-resolution
branch: heatmaps at 1/4 of the input (64x64 from 256x256).

Cell names follow the official PyTorch implementation (conv1, bn1, layer1.0.downsample.1,
transition1.1.0.0, stage3.2.fuse_layers.2.0.1.1, ...), with a parameter-free placeholder where
PyTorch keeps None in a ModuleList, so every index matches and the ImageNet `.pth` maps onto
this network by renaming only the BatchNorm fields (src/utils/pthtockpt.py).

BatchNorm momentum: PyTorch's 0.1 is the weight of the new batch statistic; MindSpore's
`momentum` is the weight kept for the running value, so the equivalent is 0.9 (the reference
MindSpore ports of this family passed 0.1, DESIGN.md section 6).
"""

from __future__ import annotations

import mindspore.common.initializer as init
import mindspore.nn as nn
import mindspore.ops as ops

BN_MOMENTUM = 0.9  # MindSpore keep ratio == PyTorch momentum 0.1
BN_EPS = 1e-5


def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride=stride, pad_mode="pad", padding=1, has_bias=False)


def conv1x1(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 1, stride=stride, pad_mode="valid", has_bias=False)


def batch_norm(channels):
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class Placeholder(nn.Cell):
    """Keeps the index of a PyTorch `None` entry; never called."""

    def construct(self, x):
        return x


class BasicBlock(nn.Cell):
    expansion = 1

    def __init__(self, cin, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(cin, planes, stride)
        self.bn1 = batch_norm(planes)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = batch_norm(planes)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def construct(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(out + residual)


class Bottleneck(nn.Cell):
    expansion = 4

    def __init__(self, cin, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(cin, planes)
        self.bn1 = batch_norm(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = batch_norm(planes)
        self.conv3 = conv1x1(planes, planes * 4)
        self.bn3 = batch_norm(planes * 4)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def construct(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        residual = x if self.downsample is None else self.downsample(x)
        return self.relu(out + residual)


BLOCKS = {"BASIC": BasicBlock, "BOTTLENECK": Bottleneck}


def make_blocks(block, cin, planes, count, stride=1):
    downsample = None
    if stride != 1 or cin != planes * block.expansion:
        downsample = nn.SequentialCell(
            [conv1x1(cin, planes * block.expansion, stride), batch_norm(planes * block.expansion)]
        )
    layers = [block(cin, planes, stride, downsample)]
    layers += [block(planes * block.expansion, planes) for _ in range(1, count)]
    return nn.SequentialCell(layers)


class Upsample(nn.Cell):
    """Nearest-neighbour upsampling by an integer factor (as PyTorch's nn.Upsample nearest)."""

    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def construct(self, x):
        h, w = x.shape[2], x.shape[3]
        return ops.ResizeNearestNeighbor((h * self.factor, w * self.factor))(x)


class HighResolutionModule(nn.Cell):
    """Parallel branches of blocks, then every output branch sums all inputs brought to its
    resolution (1x1 conv + upsampling from lower resolutions, strided 3x3 convs from higher)."""

    def __init__(self, block, num_blocks, in_channels, channels, multi_scale_output=True):
        super().__init__()
        n = len(channels)
        if not len(num_blocks) == len(in_channels) == n:
            raise ValueError(
                f"branch settings disagree: {len(num_blocks)} block counts, "
                f"{len(in_channels)} input widths, {n} widths"
            )
        self.num_branches = n
        self.branches = nn.CellList(
            [make_blocks(block, in_channels[i], channels[i], num_blocks[i]) for i in range(n)]
        )
        self.out_channels = [c * block.expansion for c in channels]
        self.num_outputs = n if multi_scale_output else 1
        self.fuse_layers = self._make_fuse_layers() if n > 1 else None
        self.relu = nn.ReLU()

    def _make_fuse_layers(self):
        c = self.out_channels
        rows = []
        for i in range(self.num_outputs):
            row = []
            for j in range(self.num_branches):
                if j > i:
                    row.append(
                        nn.SequentialCell(
                            [conv1x1(c[j], c[i]), batch_norm(c[i]), Upsample(2 ** (j - i))]
                        )
                    )
                elif j == i:
                    row.append(Placeholder())
                else:
                    steps = []
                    for k in range(i - j):
                        last = k == i - j - 1
                        out = c[i] if last else c[j]
                        layers = [conv3x3(c[j], out, stride=2), batch_norm(out)]
                        if not last:
                            layers.append(nn.ReLU())
                        steps.append(nn.SequentialCell(layers))
                    row.append(nn.SequentialCell(steps))
            rows.append(nn.CellList(row))
        return nn.CellList(rows)

    def construct(self, xs):
        outs = []
        for i in range(self.num_branches):
            outs.append(self.branches[i](xs[i]))
        if self.num_branches == 1:
            return outs
        fused = []
        for i in range(self.num_outputs):
            y = outs[i]
            for j in range(self.num_branches):
                if j != i:
                    y = y + self.fuse_layers[i][j](outs[j])
            fused.append(self.relu(y))
        return fused


class PoseHighResolutionNet(nn.Cell):
    """HRNet keypoint model; `extra` is MODEL.EXTRA of the config (stage settings)."""

    def __init__(self, num_joints, extra):
        super().__init__()
        stem = extra["STEM_INPLANES"]
        self.conv1 = nn.Conv2d(3, stem, 3, 2, pad_mode="pad", padding=1, has_bias=False)
        self.bn1 = batch_norm(stem)
        self.conv2 = nn.Conv2d(stem, stem, 3, 2, pad_mode="pad", padding=1, has_bias=False)
        self.bn2 = batch_norm(stem)
        self.relu = nn.ReLU()
        s1 = extra["STAGE1"]
        block1 = BLOCKS[s1["BLOCK"]]
        self.layer1 = make_blocks(block1, stem, s1["NUM_CHANNELS"][0], s1["NUM_BLOCKS"][0])
        prev = [s1["NUM_CHANNELS"][0] * block1.expansion]
        for n, name in ((1, "STAGE2"), (2, "STAGE3"), (3, "STAGE4")):
            cfg = extra[name]
            block = BLOCKS[cfg["BLOCK"]]
            wanted = [c * block.expansion for c in cfg["NUM_CHANNELS"]]
            setattr(self, f"transition{n}", self._make_transition(prev, wanted))
            modules = []
            inputs = wanted
            for m in range(cfg["NUM_MODULES"]):
                last = n == 3 and m == cfg["NUM_MODULES"] - 1
                module = HighResolutionModule(
                    block, cfg["NUM_BLOCKS"], inputs, cfg["NUM_CHANNELS"], not last
                )
                modules.append(module)
                inputs = module.out_channels
            setattr(self, f"stage{n + 1}", nn.SequentialCell(modules))
            prev = inputs
        kernel = extra["FINAL_CONV_KERNEL"]
        self.final_layer = nn.Conv2d(
            prev[0], num_joints, kernel, 1, pad_mode="pad", padding=1 if kernel == 3 else 0,
            has_bias=True,
        )  # fmt: skip
        self.num_branches = [len(extra[s]["NUM_CHANNELS"]) for s in ("STAGE2", "STAGE3", "STAGE4")]
        self._init_weights()

    def _init_weights(self):
        """HRNet's initialisation: conv weights N(0, 0.001^2), biases 0 (BatchNorm 1 / 0 is the
        default). With MindSpore's default (He-uniform) the untrained heatmaps start far from 0
        and training first spends hundreds of steps shrinking them."""
        for _, cell in self.cells_and_names():
            if isinstance(cell, nn.Conv2d):
                cell.weight.set_data(init.initializer(init.Normal(0.001), cell.weight.shape))
                if cell.bias is not None:
                    cell.bias.set_data(init.initializer("zeros", cell.bias.shape))

    @staticmethod
    def _make_transition(prev, wanted):
        layers = []
        for i, cout in enumerate(wanted):
            if i < len(prev):
                if cout != prev[i]:
                    layers.append(
                        nn.SequentialCell([conv3x3(prev[i], cout), batch_norm(cout), nn.ReLU()])
                    )
                else:
                    layers.append(Placeholder())
            else:
                steps = []
                for k in range(i + 1 - len(prev)):
                    cin = prev[-1]
                    out = cout if k == i - len(prev) else cin
                    steps.append(
                        nn.SequentialCell([conv3x3(cin, out, stride=2), batch_norm(out), nn.ReLU()])
                    )
                layers.append(nn.SequentialCell(steps))
        return nn.CellList(layers)

    def construct(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        x = self.layer1(x)
        xs = self._transit(self.transition1, [x], self.num_branches[0])
        xs = self.stage2(xs)
        xs = self._transit(self.transition2, xs, self.num_branches[1])
        xs = self.stage3(xs)
        xs = self._transit(self.transition3, xs, self.num_branches[2])
        xs = self.stage4(xs)
        return self.final_layer(xs[0])

    def _transit(self, transition, xs, count):
        """Inputs of the next stage: branch i transformed (or kept); new branches from the last."""
        out = []
        for i in range(count):
            if i < len(xs):
                layer = transition[i]
                out.append(xs[i] if isinstance(layer, Placeholder) else layer(xs[i]))
            else:
                out.append(transition[i](xs[-1]))
        return out


def get_pose_net(cfg):
    return PoseHighResolutionNet(cfg.MODEL.NUM_JOINTS, cfg.MODEL.EXTRA)


def count_params(net):
    return sum(int(p.size) for p in net.get_parameters() if p.requires_grad)


def conv_flops(net, input_size):
    """Multiply-adds x 2 of one forward pass at input (w, h), from the convolutions only.

    A convolution's output resolution follows from its name: the stem halves the input twice,
    branch b runs at 1/(4 * 2^b). BatchNorm, ReLU, additions and upsampling are left out (under
    2% of HRNet's arithmetic).
    """
    w, h = input_size
    total = 0
    for name, cell in net.cells_and_names():
        if not isinstance(cell, nn.Conv2d):
            continue
        scale = 2 if name == "conv1" else 4 * 2 ** _branch_of(name)
        kh, kw = cell.kernel_size
        macs = cell.in_channels * cell.out_channels * kh * kw // cell.group
        total += 2 * macs * (w // scale) * (h // scale)
    return total


def _branch_of(name):
    """Index of the resolution a conv's output has, from its name."""
    parts = name.split(".")
    if parts[0] in ("conv2", "layer1", "final_layer"):
        return 0
    if parts[0].startswith("transition"):
        # transitionN.i....: output branch i
        return int(parts[1])
    if parts[0].startswith("stage"):
        if parts[2] == "branches":
            return int(parts[3])
        if parts[2] == "fuse_layers":
            i, j = int(parts[3]), int(parts[4])
            if j > i:  # 1x1 conv at branch j, then upsampled
                return j
            # chain of stride-2 convs from branch j: step k writes branch j + k + 1
            return j + int(parts[5]) + 1
    raise ValueError(f"cannot place convolution {name}")
