"""Predict camera poses for image files with a checkpoint, a MindIR or an ONNX model.

    python infer.py --ckpt_path train_posenet_KingsCollege-30000.ckpt --image a.png b.png
    python infer.py --model posenet.onnx --image a.png

Prints (or writes with --output) JSON: one {"image", "position": [x, y, z],
"quaternion": [w, p, q, r]} per image, in the scene's coordinates (Cambridge convention).
Images are resized (shorter side --resize_size) and centre-cropped as at evaluation time.
"""

import argparse
import json
import os
import sys

from src.config import common_config
from src.dataset import preprocess_image


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="PoseNet inference on image files")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--ckpt_path", help="checkpoint written by train.py")
    src.add_argument("--model", help="exported .mindir or .onnx file")
    p.add_argument("--image", nargs="+", required=True, help="image files")
    p.add_argument("--image_size", type=int, default=None, help="default: the model's, or 224")
    p.add_argument("--resize_size", type=int, default=None, help="default: 256/224 x image_size")
    p.add_argument("--device_target", default="CPU", choices=("Ascend", "GPU", "CPU"))
    p.add_argument("--output", default=None, help="JSON file (default: print)")
    return p.parse_args(argv)


class OnnxRunner:
    def __init__(self, path):
        import onnxruntime as ort

        self.session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0]
        self.image_size = int(self.input.shape[-1])

    def __call__(self, x):
        return self.session.run(None, {self.input.name: x})[0]


class MindSporeRunner:
    def __init__(self, args):
        import mindspore as ms
        from src.utils import load_predictor

        from posekit.mindspore_train import set_device

        set_device(args.device_target, 0)
        self.ms = ms
        if args.model:
            self.net = ms.nn.GraphCell(ms.load(args.model))
            self.image_size = args.image_size
        else:
            self.image_size = args.image_size or common_config["image_size"]
            self.net = load_predictor(args.ckpt_path, self.image_size)

    def __call__(self, x):
        return self.net(self.ms.Tensor(x)).asnumpy()


def main(argv=None):
    args = parse_args(argv)
    missing = [p for p in args.image if not os.path.isfile(p)]
    if missing:
        sys.exit(f"infer.py: image file(s) not found: {', '.join(missing)}")
    if args.model and not os.path.isfile(args.model):
        sys.exit(f"infer.py: model file {args.model} not found")
    if args.model and args.model.lower().endswith(".onnx"):
        runner = OnnxRunner(args.model)
    elif args.model and not args.model.lower().endswith(".mindir"):
        sys.exit(f"infer.py: --model must be a .mindir or .onnx file, got {args.model}")
    else:
        if args.model and args.image_size is None:
            sys.exit("infer.py: give --image_size for a MindIR model (the size it was exported at)")
        runner = MindSporeRunner(args)
    size = args.image_size or runner.image_size
    resize = args.resize_size or round(size * common_config["resize_size"] / 224)
    results = []
    for path in args.image:
        out = runner(preprocess_image(path, resize, size))[0]
        results.append(
            {
                "image": path,
                "position": [float(v) for v in out[:3]],
                "quaternion": [float(v) for v in out[3:7]],
            }
        )
    text = json.dumps(results, indent=2)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")
    else:
        print(text)
    return results


if __name__ == "__main__":
    main()
