"""The demo's result.json: the trained model's PCK against the mean-layout baseline.

python src/utils/demo_result.py --data_dir D --eval_dir E --out OUT_DIR/result.json
    --pictures eval/gallery.png infer/x_keypoints.png

Baseline: the mean keypoint configuration of the training labels (relative to the image box)
placed in each test image's box, scored with the same PCK protocols.
"""

from __future__ import annotations

import argparse
import json
import os

from posekit import pck, veri


def baseline(data_dir):
    train = veri.read_labels(veri.label_path(data_dir, "train"))
    test = veri.read_labels(veri.label_path(data_dir, "test"))
    pred = veri.place_layout(veri.mean_layout(train), test.sizes)
    return pck.pck_honest(pred, test.joints, test.visible), pck.pck_reference(
        pred, test.joints, test.visible
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data_dir", required=True)
    p.add_argument("--eval_dir", required=True, help="eval.py --output_dir (holds pck.json)")
    p.add_argument("--out", required=True)
    p.add_argument("--pictures", nargs="*", default=[], help="paths relative to --out's folder")
    args = p.parse_args(argv)
    with open(os.path.join(args.eval_dir, "pck.json"), encoding="utf-8") as f:
        scores = json.load(f)
    honest, reference = baseline(args.data_dir)
    print("mean-layout baseline:\n" + pck.report([reference, honest], "mean_layout"))
    result = {
        "metrics": {
            "pck_mean_honest": round(scores["honest"]["table"]["Mean"], 3),
            "pck_mean_reference": round(scores["reference"]["table"]["Mean"], 3),
            "pck_mean_at_0.1_honest": round(scores["honest"]["table"]["Mean@0.1"], 3),
        },
        "baseline": {
            "pck_mean_honest": round(honest.mean, 3),
            "pck_mean_reference": round(reference.mean, 3),
        },
        "pictures": args.pictures,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
