"""Device selection that can be repeated in one process (scripts called from tests or notebooks)."""

from __future__ import annotations

import mindspore as ms
from mindspore.device_manager import get_current_device


def set_device(target, device_id=None):
    """Graph mode on `target`; a no-op when that device is already the current one (MindSpore
    refuses set_device once kernels have run, even for the same device)."""
    ms.set_context(mode=ms.GRAPH_MODE)
    current = get_current_device()
    if current.device_target == target and (device_id is None or current.device_id == device_id):
        return
    if target == "CPU" or device_id is None:
        ms.set_device(target)
    else:
        ms.set_device(target, device_id)
