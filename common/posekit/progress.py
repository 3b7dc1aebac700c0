"""Training progress for log lines: images/s over the last logging window and the time left."""

from __future__ import annotations

import time


def format_duration(seconds: float) -> str:
    """Seconds -> H:MM:SS (negative clamps to 0)."""
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Throughput:
    """Images/s since the previous `update` and the time left at that rate.

    `total_steps` is the step the run ends at, `images_per_step` the batch over all workers.
    """

    def __init__(self, total_steps: int, images_per_step: int, step: int = 0):
        self.total = total_steps
        self.images_per_step = images_per_step
        self.restart(step)

    def restart(self, step: int) -> None:
        """Measure from `step` on (e.g. after a first step that compiled the graph)."""
        self.step, self.time = step, time.perf_counter()

    def update(self, step: int):
        """-> (images/s, seconds per step, ETA in seconds) over the steps since the last call."""
        now = time.perf_counter()
        per_step = max(now - self.time, 1e-9) / max(step - self.step, 1)
        self.step, self.time = step, now
        return self.images_per_step / per_step, per_step, per_step * max(self.total - step, 0)
