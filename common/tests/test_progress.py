"""posekit.progress: window throughput and ETA, checked on a controlled clock."""

import pytest

from posekit import progress


def test_format_duration():
    assert progress.format_duration(0) == "0:00:00"
    assert progress.format_duration(3725.9) == "1:02:05"
    assert progress.format_duration(-4) == "0:00:00"


def test_throughput_measures_each_window(monkeypatch):
    clock = iter([10.0, 12.0, 13.0, 20.0])
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    meter = progress.Throughput(total_steps=100, images_per_step=32)  # starts at t = 10
    rate, per_step, eta = meter.update(10)  # 10 steps in 2 s
    assert (rate, per_step, eta) == pytest.approx((160.0, 0.2, 18.0))
    meter.restart(20)  # t = 13
    rate, per_step, eta = meter.update(30)  # 10 steps in 7 s
    assert (rate, per_step, eta) == pytest.approx((32 / 0.7, 0.7, 49.0))
