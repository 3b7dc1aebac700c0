"""HRNet stage settings (MODEL.EXTRA). W32 as in the HRNet paper and PAMTRI's PoseEstNet:
stage modules 1/1/4/3, branch widths 32/64/128/256, four blocks per branch."""

POSE_HIGH_RESOLUTION_NET_W32 = {
    "STEM_INPLANES": 64,
    "FINAL_CONV_KERNEL": 1,
    "STAGE1": {"NUM_MODULES": 1, "BLOCK": "BOTTLENECK", "NUM_BLOCKS": [4], "NUM_CHANNELS": [64]},
    "STAGE2": {
        "NUM_MODULES": 1,
        "BLOCK": "BASIC",
        "NUM_BLOCKS": [4, 4],
        "NUM_CHANNELS": [32, 64],
    },
    "STAGE3": {
        "NUM_MODULES": 4,
        "BLOCK": "BASIC",
        "NUM_BLOCKS": [4, 4, 4],
        "NUM_CHANNELS": [32, 64, 128],
    },
    "STAGE4": {
        "NUM_MODULES": 3,
        "BLOCK": "BASIC",
        "NUM_BLOCKS": [4, 4, 4, 4],
        "NUM_CHANNELS": [32, 64, 128, 256],
    },
}
