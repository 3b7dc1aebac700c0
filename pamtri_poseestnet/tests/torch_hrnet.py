"""An independent PyTorch HRNet for parity tests (test-only; torch is never a runtime import).

Written from the HRNet paper's description with the module names of the official code (the names
the ImageNet .pth carries): stem conv1/bn1/conv2/bn2, layer1 of bottlenecks, transitionN lists
with None where a branch passes through, stageN of HighResolutionModules with branches and
fuse_layers, final_layer. PyTorch BatchNorm momentum 0.1.
"""

import torch
from torch import nn


def bn(c):
    return nn.BatchNorm2d(c, momentum=0.1)


class Basic(nn.Module):
    expansion = 1

    def __init__(self, cin, c, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, c, 3, stride, 1, bias=False)
        self.bn1 = bn(c)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn2 = bn(c)
        self.downsample = downsample

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


class Bottle(nn.Module):
    expansion = 4

    def __init__(self, cin, c, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, c, 1, bias=False)
        self.bn1 = bn(c)
        self.conv2 = nn.Conv2d(c, c, 3, stride, 1, bias=False)
        self.bn2 = bn(c)
        self.conv3 = nn.Conv2d(c, 4 * c, 1, bias=False)
        self.bn3 = bn(4 * c)
        self.downsample = downsample

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = torch.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


def layer(block, cin, c, n):
    down = None
    if cin != c * block.expansion:
        down = nn.Sequential(
            nn.Conv2d(cin, c * block.expansion, 1, bias=False), bn(c * block.expansion)
        )
    return nn.Sequential(
        block(cin, c, 1, down), *[block(c * block.expansion, c) for _ in range(n - 1)]
    )


class Module(nn.Module):
    def __init__(self, block, blocks, cins, cs, multi_out):
        super().__init__()
        n = len(cs)
        self.branches = nn.ModuleList([layer(block, cins[i], cs[i], blocks[i]) for i in range(n)])
        outs = [c * block.expansion for c in cs]
        self.outs = outs
        self.fuse_layers = None
        if n > 1:
            rows = []
            for i in range(n if multi_out else 1):
                row = []
                for j in range(n):
                    if j > i:
                        row.append(
                            nn.Sequential(
                                nn.Conv2d(outs[j], outs[i], 1, bias=False),
                                bn(outs[i]),
                                nn.Upsample(scale_factor=2 ** (j - i), mode="nearest"),
                            )
                        )
                    elif j == i:
                        row.append(None)
                    else:
                        chain = []
                        for k in range(i - j):
                            last = k == i - j - 1
                            out = outs[i] if last else outs[j]
                            mods = [nn.Conv2d(outs[j], out, 3, 2, 1, bias=False), bn(out)]
                            if not last:
                                mods.append(nn.ReLU())
                            chain.append(nn.Sequential(*mods))
                        row.append(nn.Sequential(*chain))
                rows.append(nn.ModuleList(row))
            self.fuse_layers = nn.ModuleList(rows)

    def forward(self, xs):
        xs = [b(x) for b, x in zip(self.branches, xs)]
        if self.fuse_layers is None:
            return xs
        out = []
        for i, row in enumerate(self.fuse_layers):
            y = xs[i]
            for j, f in enumerate(row):
                if j != i:
                    y = y + f(xs[j])
            out.append(torch.relu(y))
        return out


class PoseHRNet(nn.Module):
    """extra: the same dict as MODEL.EXTRA of the MindSpore config."""

    def __init__(self, joints, extra):
        super().__init__()
        stem = extra["STEM_INPLANES"]
        self.conv1 = nn.Conv2d(3, stem, 3, 2, 1, bias=False)
        self.bn1 = bn(stem)
        self.conv2 = nn.Conv2d(stem, stem, 3, 2, 1, bias=False)
        self.bn2 = bn(stem)
        s1 = extra["STAGE1"]
        self.layer1 = layer(Bottle, stem, s1["NUM_CHANNELS"][0], s1["NUM_BLOCKS"][0])
        prev = [4 * s1["NUM_CHANNELS"][0]]
        for n, key in ((1, "STAGE2"), (2, "STAGE3"), (3, "STAGE4")):
            s = extra[key]
            cs = list(s["NUM_CHANNELS"])
            trans = []
            for i, c in enumerate(cs):
                if i < len(prev):
                    trans.append(
                        None
                        if c == prev[i]
                        else nn.Sequential(
                            nn.Conv2d(prev[i], c, 3, 1, 1, bias=False), bn(c), nn.ReLU()
                        )
                    )
                else:
                    trans.append(
                        nn.Sequential(
                            nn.Sequential(
                                nn.Conv2d(prev[-1], c, 3, 2, 1, bias=False), bn(c), nn.ReLU()
                            )
                        )
                    )
            setattr(self, f"transition{n}", nn.ModuleList(trans))
            mods, cins = [], cs
            for m in range(s["NUM_MODULES"]):
                mod = Module(
                    Basic, s["NUM_BLOCKS"], cins, cs, not (n == 3 and m == s["NUM_MODULES"] - 1)
                )
                mods.append(mod)
                cins = mod.outs
            setattr(self, f"stage{n + 1}", nn.Sequential(*mods))
            prev = cins
        self.final_layer = nn.Conv2d(prev[0], joints, extra["FINAL_CONV_KERNEL"], 1, 0)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        xs = [self.layer1(x)]
        for n in (1, 2, 3):
            trans = getattr(self, f"transition{n}")
            nxt = []
            for i, t in enumerate(trans):
                src = xs[i] if i < len(xs) else xs[-1]
                nxt.append(src if t is None else t(src))
            xs = getattr(self, f"stage{n + 1}")(nxt)
        return self.final_layer(xs[0])
