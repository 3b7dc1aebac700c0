"""The benchmark's convolution yardstick: branch shapes and chained-convolution rates."""

import os

import pytest
from conftest import ROOT
from src.config import load_config
from src.utils import benchmark


def test_branch_shapes_of_w32_at_256():
    cfg = load_config(os.path.join(ROOT, "config.yaml"))
    assert benchmark.branch_shapes(cfg) == [(32, 64, 64), (64, 32, 32), (128, 16, 16), (256, 8, 8)]


def test_chain_gflop_counts_three_passes_of_every_convolution():
    # one 3x3 conv, 2 channels, 1 pixel, batch 1: 2 * 2 * 9 multiply-adds, x 3 passes, x CHAIN
    assert benchmark.chain_gflop(2, 1, 1, 1) * 1e9 == pytest.approx(3 * 2 * 2 * 2 * 9 * 8)


def test_conv_rates_are_measured_per_shape():
    shapes = [(16, 16, 16), (32, 8, 8)]
    rates = benchmark.conv_rates_mindspore(shapes, batch=2, steps=1)
    assert list(rates) == ["16ch@16x16", "32ch@8x8"]
    assert all(r > 0 for r in rates.values())
    torch_rates = benchmark.conv_rates_torch(shapes, batch=2, steps=1)
    assert torch_rates is None or list(torch_rates) == list(rates)
