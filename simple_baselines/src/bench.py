"""Benchmarks (make bench): training speed and FLOP utilisation, input pipeline speed, and the
time to score a COCO-val-sized result set. Usage: python -m src.bench OUT_JSON.

- gemm_gflops: fp32 matrix product rate of this machine (NumPy/BLAS, 2048^3) and
  gemm_gflops_mindspore (MindSpore's MatMul); utilisation is measured against the faster one.
- train_img_per_s at the paper's configuration (ResNet-50, 256x192), batch 8, graph mode;
  model_flop_utilisation = img/s x 3 x forward FLOPs / GEMM rate (backward ~ 2 x forward).
- pipeline_img_per_s: the augmenting input pipeline alone at 256x192; pipeline_vs_train = ratio.
- eval_6352_people_s: rescoring + OKS-NMS + pycocotools COCOeval for 6352 people (COCO val2017's
  count) with 1.5 boxes per person, as detections give.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

import mindspore as ms
import numpy as np
from mindspore import nn

from posekit import coco
from posekit.synth import coco as synth
from src.config import get_config
from src.dataset import create_dataset
from src.network_with_loss import JointsMSELoss, PoseResNetWithLoss
from src.pose_resnet import get_pose_net


def gemm_rates(n=2048, repeats=5):
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    a @ a
    start = time.perf_counter()
    for _ in range(repeats):
        a @ a
    numpy_rate = 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9
    matmul = ms.ops.MatMul()
    t = ms.Tensor(a)
    matmul(t, t).asnumpy()
    start = time.perf_counter()
    for _ in range(repeats):
        out = matmul(t, t)
    out.asnumpy()
    ms_rate = 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9
    return numpy_rate, ms_rate


def forward_flops(net, height, width):
    """Multiply-adds x 2 of the convolutions and deconvolutions for one image."""
    shapes = {}

    def hook(cell, inputs, output):
        shapes[id(cell)] = (inputs[0].shape, output.shape)

    handles = [
        c.register_forward_hook(hook)
        for _, c in net.cells_and_names()
        if isinstance(c, (nn.Conv2d, nn.Conv2dTranspose))
    ]
    ms.set_context(mode=ms.PYNATIVE_MODE)
    net.set_train(False)
    net(ms.Tensor(np.zeros((1, 3, height, width), np.float32)))
    for h in handles:
        h.remove()
    macs = 0
    for _, c in net.cells_and_names():
        if id(c) not in shapes:
            continue
        (_, cin, hin, win), (_, cout, hout, wout) = shapes[id(c)]
        k = c.kernel_size[0] * c.kernel_size[1]
        # a deconvolution spreads each input pixel over k outputs: MACs counted at its input
        pixels = hin * win if isinstance(c, nn.Conv2dTranspose) else hout * wout
        macs += cin * cout * k * pixels // c.group
    return 2 * macs


def train_speed(cfg, batch, steps=4):
    ms.set_context(mode=ms.GRAPH_MODE)
    net = get_pose_net(cfg)
    opt = nn.Adam(net.trainable_params(), 1e-3)
    step = nn.TrainOneStepCell(PoseResNetWithLoss(net, JointsMSELoss()), opt)
    step.set_train()
    w, h = cfg.MODEL.IMAGE_SIZE
    hw, hh = cfg.NETWORK.HEATMAP_SIZE
    rng = np.random.default_rng(0)
    x = ms.Tensor(rng.standard_normal((batch, 3, h, w)).astype(np.float32))
    t = ms.Tensor(rng.uniform(size=(batch, cfg.MODEL.NUM_JOINTS, hh, hw)).astype(np.float32))
    tw = ms.Tensor(np.ones((batch, cfg.MODEL.NUM_JOINTS), np.float32))
    step(x, t, tw).asnumpy()  # compile
    step(x, t, tw).asnumpy()
    start = time.perf_counter()
    for _ in range(steps):
        loss = step(x, t, tw)
    loss.asnumpy()
    return batch * steps / (time.perf_counter() - start)


def pipeline_speed(cfg, root, batch, batches=30):
    dataset, _ = create_dataset(cfg, root, train=True, batch_size=batch)
    it = dataset.create_tuple_iterator(num_epochs=1, output_numpy=True)
    next(it)
    start, count = time.perf_counter(), 0
    for images, _, _ in it:
        count += images.shape[0]
        if count >= batches * batch:
            break
    return count / (time.perf_counter() - start)


def eval_speed(tmp, people=6352, per_image=1.27, seed=0):
    """Synthetic val annotations (poses only, no pixels) and detection-like predictions."""
    rng = np.random.default_rng(seed)
    images, anns = [], []
    n_images = int(people / per_image)
    for i in range(n_images):
        images.append({"id": i + 1, "file_name": f"{i + 1:012d}.jpg", "width": 640, "height": 480})
    for n in range(people):
        image_id = int(rng.integers(1, n_images + 1))
        height = rng.uniform(80, 400)
        joints, _, _ = synth.person_joints(rng, np.array([rng.uniform(50, 590), 300.0]), height)
        x0, y0 = joints.min(0)
        x1, y1 = joints.max(0)
        kp = np.c_[joints, np.full(17, 2)]
        anns.append(
            {
                "id": n + 1,
                "image_id": image_id,
                "category_id": 1,
                "iscrowd": 0,
                "keypoints": kp.ravel().tolist(),
                "num_keypoints": 17,
                "bbox": [x0, y0, x1 - x0, y1 - y0],
                "area": float((x1 - x0) * (y1 - y0) * 0.5),
            }
        )
    gt_path = os.path.join(tmp, "person_keypoints_val2017.json")
    with open(gt_path, "w") as f:
        json.dump({"images": images, "annotations": anns, "categories": [coco.PERSON_CATEGORY]}, f)
    # 1.5 boxes per person: the person's pose with noise, half of them with a duplicate
    ids, coords, scales = [], [], []
    for a in anns:
        kp = np.array(a["keypoints"]).reshape(17, 3)[:, :2]
        size = np.array(a["bbox"][2:]) / 200 * 1.25
        for _ in range(1 + int(rng.uniform() < 0.5)):
            ids.append(a["image_id"])
            coords.append(kp + rng.normal(0, 0.03 * size.max() * 200, kp.shape))
            scales.append(size)
    coords = np.array(coords)
    maxvals = rng.uniform(0.3, 1.0, coords.shape[:2])
    scores = rng.uniform(0.5, 1.0, len(ids))
    start = time.perf_counter()
    results = coco.topdown_results(ids, coords, maxvals, np.array(scales), scores)
    nms_s = time.perf_counter() - start
    stats = coco.evaluate(gt_path, results, use_gt_bbox=False)
    return time.perf_counter() - start, nms_s, len(ids), stats["AP"]


def main(out_json):
    ms.set_device("CPU")
    report = {}
    numpy_rate, ms_rate = gemm_rates()
    report["gemm_gflops"] = round(numpy_rate, 2)
    report["gemm_gflops_mindspore"] = round(ms_rate, 2)
    cfg = get_config()
    flops = forward_flops(get_pose_net(cfg), *reversed(cfg.MODEL.IMAGE_SIZE))
    report["forward_gflops_per_image"] = round(flops / 1e9, 3)
    speed = train_speed(cfg, batch=8)
    report["train_img_per_s"] = round(speed, 3)
    # against the faster of the two GEMM rates, so utilisation is not flattered
    report["model_flop_utilisation"] = round(speed * 3 * flops / 1e9 / max(numpy_rate, ms_rate), 3)
    with tempfile.TemporaryDirectory() as tmp:
        synth.generate(tmp, train=40, val=1, seed=0)
        pipe = pipeline_speed(cfg, tmp, batch=8)
        report["pipeline_img_per_s"] = round(pipe, 2)
        report["pipeline_vs_train"] = round(pipe / speed, 2)
        total, nms_s, boxes, ap = eval_speed(tmp)
    report["eval_6352_people_s"] = round(total, 2)
    report["eval_6352_people_nms_s"] = round(nms_s, 2)
    report["eval_6352_people_boxes"] = boxes
    report["eval_6352_people_ap"] = round(ap, 4)
    with open(out_json, "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m src.bench OUT_JSON")
    main(sys.argv[1])
