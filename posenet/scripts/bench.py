"""PoseNet measurements for `make bench` (run by run_bench.sh), all taken in one run.

- fp32 GEMM rate of this machine (NumPy matmul, 2048^3), the yardstick for utilisation;
- training throughput (images/s) at 224x224, batch 16, and model FLOP utilisation: analytic
  training FLOPs (3 x 2 x forward MACs: forward, input gradients, weight gradients) per second
  over the GEMM rate;
- input pipeline throughput (MindRecord read, PNG decode, crop, normalise) and its ratio to what
  training consumes;
- batch-1 inference latency, MindSpore (graph mode) vs ONNX Runtime on the exported model.
"""

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def gemm_gflops(n=2048, repeats=5):
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = a.copy()
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def timed(fn, repeats):
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--image_size", type=int, default=224)
    p.add_argument("--batch_size", type=int, default=16)
    p.add_argument("--train_steps", type=int, default=4)
    args = p.parse_args()

    import mindspore as ms
    import onnxruntime as ort
    from src.dataset import create_posenet_dataset, prepare_mindrecord
    from src.loss import PoseLoss, PoseNetWithLoss
    from src.posenet import PoseNet, PoseNetPredictor, forward_macs
    from src.trainer import ClippedTrainStep, build_optimizer

    from posekit.mindspore_train import set_device
    from posekit.synth import cambridge as synth

    set_device("CPU")
    ms.set_seed(1)
    size, batch = args.image_size, args.batch_size
    result = {"image_size": size, "batch_size": batch}
    result["gemm_fp32_gflops"] = round(gemm_gflops(), 1)

    work = tempfile.mkdtemp(prefix="posenet-bench-")
    scene = os.path.join(work, "Bench")
    # Frames at the downsampled Cambridge size, 455x256, as users train on.
    synth.generate(scene, train_seqs=2, test_seqs=1, frames=32, width=455, height=256)
    record = prepare_mindrecord(scene, "train", os.path.join(work, "mr"), "Bench", 256)

    data = create_posenet_dataset(record, batch, size, is_training=True, num_workers=2)
    images = 0
    start = time.perf_counter()
    for image, _ in data.repeat(4).create_tuple_iterator(output_numpy=True, num_epochs=1):
        images += len(image)
    pipeline_rate = images / (time.perf_counter() - start)
    result["input_pipeline_images_per_s"] = round(pipeline_rate, 1)

    net = PoseNet(size)
    step = ClippedTrainStep(
        PoseNetWithLoss(net, PoseLoss()), build_optimizer(net.trainable_params(), 1e-3, 0.5)
    )
    step.set_train(True)
    rng = np.random.default_rng(0)
    x = ms.Tensor(rng.uniform(-1, 1, (batch, 3, size, size)).astype(np.float32))
    y = ms.Tensor(rng.normal(size=(batch, 7)).astype(np.float32))
    start = time.perf_counter()
    step(x, y).asnumpy()
    result["train_compile_s"] = round(time.perf_counter() - start, 1)
    seconds = timed(lambda: step(x, y).asnumpy(), args.train_steps)
    train_rate = batch / seconds
    train_gflops = 3 * 2 * forward_macs(size) * batch / seconds / 1e9
    result["train_images_per_s"] = round(train_rate, 2)
    result["train_step_s"] = round(seconds, 3)
    result["train_model_gflops"] = round(train_gflops, 1)
    result["train_mfu_vs_gemm"] = round(train_gflops / result["gemm_fp32_gflops"], 3)
    result["pipeline_over_training_ratio"] = round(pipeline_rate / train_rate, 1)

    pred = PoseNetPredictor(net)
    pred.set_train(False)
    one = ms.Tensor(rng.uniform(-1, 1, (1, 3, size, size)).astype(np.float32))
    result["infer_mindspore_batch1_ms"] = round(1e3 * timed(lambda: pred(one).asnumpy(), 10), 2)
    onnx_path = os.path.join(work, "posenet")
    ms.export(pred, one, file_name=onnx_path, file_format="ONNX")
    session = ort.InferenceSession(onnx_path + ".onnx", providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: one.asnumpy()}
    result["infer_onnxruntime_batch1_ms"] = round(
        1e3 * timed(lambda: session.run(None, feed), 10), 2
    )
    result["infer_speedup_onnxruntime"] = round(
        result["infer_mindspore_batch1_ms"] / result["infer_onnxruntime_batch1_ms"], 2
    )
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
