"""Measuring helpers shared by the benchmarks: peak resident memory of a block of code."""

from __future__ import annotations

import threading

MIB = 1024**2


class PeakRss:
    """Peak resident memory of this process while the block runs, sampled in a thread.

    `peak` is absolute bytes; `extra_mb` is the peak above the level at entry (MiB), which is
    what a stage adds on top of the inputs it was handed.
    """

    def __init__(self, every: float = 0.02) -> None:
        import psutil

        self.process, self.every = psutil.Process(), every
        self.base = self.peak = self.process.memory_info().rss
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self.stop.wait(self.every)

    def __enter__(self) -> PeakRss:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def extra_mb(self) -> float:
        """Peak above the memory at entry, MiB."""
        return (self.peak - self.base) / MIB
