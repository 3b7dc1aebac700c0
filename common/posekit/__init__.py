"""posekit: the thin library the Pose Zoo models share (metrics, data sets, rendering).

Pure Python + NumPy so it runs in both the MindSpore (3.11) and TensorFlow 1.15 (3.7) envs. The
exception is `posekit.mindspore_train` (device setup, training loop and checkpoints of the
MindSpore models): it imports MindSpore, and no other posekit module imports it.
"""

from posekit import onednn

__version__ = "0.1.0"

# Before any model creates a oneDNN primitive: see posekit.onednn.
onednn.cap_isa_on_amd_avx512()
