"""Evaluate an exported ONNX PoseEstNet with ONNX Runtime on the VeRi test split.

python eval_onnx.py --cfg config.yaml --data_dir data/veri --onnx_path PoseEstNet.onnx
    [--device_target CPU|GPU]

Same pipeline and metric as eval.py (flip test, every test image, both PCK tables); batches are
padded to the model's fixed batch size and the padding dropped from the outputs.
"""

from __future__ import annotations

import argparse

import numpy as np
from src.config import load_config
from src.dataset.dataset import create_dataset
from src.dataset.veri import make_codec
from src.utils.function import evaluate, run_inference

from posekit import pck


def onnx_forward(path, device_target="CPU"):
    """NumPy forward pass of an ONNX model with a fixed batch size."""
    import onnxruntime as ort

    providers = ["CPUExecutionProvider"]
    if device_target == "GPU":
        providers.insert(0, "CUDAExecutionProvider")
    session = ort.InferenceSession(path, providers=providers)
    inp = session.get_inputs()[0]
    batch = inp.shape[0] if isinstance(inp.shape[0], int) else None

    def forward(images):
        n = len(images)
        if batch is None or n == batch:
            return session.run(None, {inp.name: images})[0]
        outs = []
        for start in range(0, n, batch):
            chunk = images[start : start + batch]
            pad = batch - len(chunk)
            if pad:
                chunk = np.concatenate([chunk, np.zeros((pad,) + chunk.shape[1:], chunk.dtype)])
            outs.append(session.run(None, {inp.name: chunk})[0][: batch - pad])
        return np.concatenate(outs)

    return forward


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cfg", default="config.yaml")
    p.add_argument("--data_dir", default=None)
    p.add_argument("--onnx_path", required=True)
    p.add_argument("--device_target", default="GPU", choices=["GPU", "CPU"])
    p.add_argument("--set", nargs="*", default=[], metavar="SECTION.KEY=VALUE")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.cfg, args.set)
    dataset, labels, records = create_dataset(cfg, args.data_dir or cfg.DATASET.ROOT, train=False)
    forward = onnx_forward(args.onnx_path, args.device_target)
    print(f"============== ONNX testing: {len(records)} images ==============", flush=True)
    preds, maxvals, _ = run_inference(forward, dataset, records, make_codec(cfg), cfg, desc="onnx")
    results = evaluate(preds, maxvals, labels)
    print(pck.report(results, cfg.MODEL.NAME), flush=True)
    return results


if __name__ == "__main__":
    main()
