import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# a small PoseResNet-18 on 32 x 64 inputs, so training runs in seconds on a CPU
TINY = [
    "NETWORK.NUM_LAYERS=18",
    "MODEL.IMAGE_SIZE=[32,64]",
    "NETWORK.HEATMAP_SIZE=[8,16]",
    "NETWORK.NUM_DECONV_FILTERS=[16,16,16]",
]
