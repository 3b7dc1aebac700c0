"""Benchmarks (make bench): training throughput, FLOP utilisation, input pipeline vs training.

python src/utils/benchmark.py --data_dir D --out OUT_JSON [--cfg config.yaml] [--batch 8]

- peak_gflops: fp32 GEMM rate of this machine (NumPy's BLAS, 2048^3, all cores), the yardstick;
- train_images_per_s: graph-mode training steps (after compilation and one warm-up step) of
  the model in --cfg at its input size, random data, batch --batch;
- model_gflop_per_image_train: 3 x the forward convolutions' FLOPs (backward ~ 2 x forward);
- flop_utilisation: train_images_per_s x model_gflop_per_image_train / peak_gflops;
- pipeline_images_per_s: the training input pipeline alone (decode, augment, targets), with
  TRAIN.NUM_WORKERS threads, over the synthetic images in --data_dir;
- pipeline_to_train_ratio: pipeline_images_per_s / train_images_per_s (>= 2: data never waits);
- conv3x3_gflops_mindspore: the rate of a training step of chained 3x3 convolutions (no
  BatchNorm, no ReLU) at each branch's width and resolution, i.e. the most the framework's
  convolution kernels give the model's bulk (HRNet spreads its FLOPs evenly over the branches);
- conv3x3_gflops_torch: the same convolutions in PyTorch's CPU kernels, when torch imports (a test
  dependency here), to tell the framework's kernels from the model.
All numbers come from this one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def peak_gflops(size=2048, repeats=5):
    a = np.random.default_rng(0).standard_normal((size, size)).astype(np.float32)
    b = a.T.copy()
    a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def train_speed(cfg, batch, steps):
    import mindspore as ms
    from mindspore import nn

    from posekit.mindspore_train import set_device
    from src.loss.loss import NetWithLoss
    from src.model.HRNet import conv_flops, count_params, get_pose_net

    set_device("CPU")
    net = get_pose_net(cfg)
    step = nn.TrainOneStepCell(NetWithLoss(net), nn.Adam(net.trainable_params(), 1e-3))
    step.set_train()
    w, h = cfg.MODEL.IMAGE_SIZE
    hw, hh = cfg.MODEL.HEATMAP_SIZE
    rng = np.random.default_rng(0)
    x = ms.Tensor(rng.standard_normal((batch, 3, h, w)).astype(np.float32))
    t = ms.Tensor(rng.random((batch, cfg.MODEL.NUM_JOINTS, hh, hw)).astype(np.float32))
    v = ms.Tensor(np.ones((batch, cfg.MODEL.NUM_JOINTS), np.float32))
    start = time.perf_counter()
    _run_cell(step, x, t, v)
    compile_s = time.perf_counter() - start
    per_step = _time_steps(steps, _run_cell, step, x, t, v, warmup=1)
    return {
        "params_m": round(count_params(net) / 1e6, 3),
        "forward_gflop_per_image": conv_flops(net, (w, h)) / 1e9,
        "compile_s": round(compile_s, 1),
        "train_images_per_s": batch / per_step,
    }


CHAIN = 8  # convolutions per chain: enough to amortise a step's fixed cost


def branch_shapes(cfg):
    """(channels, height, width) of each stage-4 branch: 1/4 of the input, halved per branch."""
    w, h = cfg.MODEL.IMAGE_SIZE
    channels = cfg.MODEL.EXTRA["STAGE4"]["NUM_CHANNELS"]
    return [(c, h // (4 * 2**b), w // (4 * 2**b)) for b, c in enumerate(channels)]


def chain_gflop(c, h, w, batch):
    return 3 * 2 * c * c * 9 * h * w * batch * CHAIN / 1e9


def _time_steps(steps, step, *args, warmup=2):
    """Seconds per call of step(*args) after `warmup` calls (compilation, then a warm-up step)."""
    for _ in range(warmup):
        step(*args)
    start = time.perf_counter()
    for _ in range(steps):
        step(*args)
    return (time.perf_counter() - start) / steps


def conv_rates_mindspore(shapes, batch, steps):
    import mindspore as ms
    from mindspore import nn, ops

    from posekit.mindspore_train import set_device

    set_device("CPU")  # graph mode, as the model's training step

    class Chain(nn.Cell):
        def __init__(self, c):
            super().__init__()
            self.convs = nn.SequentialCell(
                [
                    nn.Conv2d(c, c, 3, pad_mode="pad", padding=1, has_bias=False)
                    for _ in range(CHAIN)
                ]
            )

        def construct(self, x):
            y = self.convs(x)
            return ops.mean(y * y)

    rates = {}
    for c, h, w in shapes:
        net = Chain(c)
        step = nn.TrainOneStepCell(net, nn.SGD(net.trainable_params(), 1e-6))
        step.set_train()
        x = ms.Tensor(np.random.default_rng(0).standard_normal((batch, c, h, w)), ms.float32)
        seconds = _time_steps(steps, _run_cell, step, x)
        rates[f"{c}ch@{h}x{w}"] = round(chain_gflop(c, h, w, batch) / seconds, 1)
    return rates


def conv_rates_torch(shapes, batch, steps):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(os.cpu_count())
    rates = {}
    for c, h, w in shapes:
        net = torch.nn.Sequential(
            *[torch.nn.Conv2d(c, c, 3, padding=1, bias=False) for _ in range(CHAIN)]
        )
        opt = torch.optim.SGD(net.parameters(), 1e-6)
        x = torch.from_numpy(np.random.default_rng(0).standard_normal((batch, c, h, w))).float()
        seconds = _time_steps(steps, _torch_step, net, opt, x)
        rates[f"{c}ch@{h}x{w}"] = round(chain_gflop(c, h, w, batch) / seconds, 1)
    return rates


def _run_cell(cell, *inputs):
    """One MindSpore step, waited for."""
    cell(*inputs).asnumpy()


def _torch_step(net, opt, x):
    opt.zero_grad()
    net(x).pow(2).mean().backward()
    opt.step()


def pipeline_speed(cfg, data_dir, batches):
    from src.dataset.dataset import create_dataset

    dataset, _, _ = create_dataset(cfg, data_dir, train=True)
    count, start = 0, None
    for i, (image, _, _) in enumerate(dataset.create_tuple_iterator(num_epochs=-1)):
        if i == 1:  # the first batch includes the workers' start-up
            start, count = time.perf_counter(), 0
        count += image.shape[0]
        if i == batches:
            break
    return count / (time.perf_counter() - start)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data_dir", required=True, help="VeRi-layout folder (posekit synth veri)")
    p.add_argument("--out", required=True)
    p.add_argument("--cfg", default=os.path.join(ROOT, "config.yaml"))
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--pipeline_batches", type=int, default=8)
    p.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    args = p.parse_args(argv)
    from src.config import load_config

    cfg = load_config(args.cfg, args.set + [f"TRAIN.BATCH_SIZE={args.batch}"])
    peak = peak_gflops()
    print(f"peak fp32 GEMM: {peak:.1f} GFLOP/s", flush=True)
    train = train_speed(cfg, args.batch, args.steps)
    train_flop = 3 * train["forward_gflop_per_image"]
    print(
        f"training: {train['train_images_per_s']:.2f} img/s, {train_flop:.2f} GFLOP/img", flush=True
    )
    pipe = pipeline_speed(cfg, args.data_dir, args.pipeline_batches)
    print(f"input pipeline: {pipe:.1f} img/s", flush=True)
    shapes = branch_shapes(cfg)
    ms_conv = conv_rates_mindspore(shapes, args.batch, args.steps)
    print(f"3x3 conv chains, MindSpore: {ms_conv} GFLOP/s", flush=True)
    torch_conv = conv_rates_torch(shapes, args.batch, args.steps)
    print(f"3x3 conv chains, PyTorch: {torch_conv} GFLOP/s", flush=True)
    result = {
        "model": f"{cfg.MODEL.NAME} {cfg.MODEL.IMAGE_SIZE[0]}x{cfg.MODEL.IMAGE_SIZE[1]}",
        "params_m": train["params_m"],
        "batch": args.batch,
        "peak_gflops": round(peak, 1),
        "train_images_per_s": round(train["train_images_per_s"], 3),
        "model_gflop_per_image_train": round(train_flop, 3),
        "achieved_gflops": round(train["train_images_per_s"] * train_flop, 2),
        "flop_utilisation": round(train["train_images_per_s"] * train_flop / peak, 4),
        "compile_s": train["compile_s"],
        "pipeline_images_per_s": round(pipe, 2),
        "pipeline_to_train_ratio": round(pipe / train["train_images_per_s"], 2),
        "conv3x3_gflops_mindspore": ms_conv,
        "conv3x3_gflops_torch": torch_conv,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    main()
