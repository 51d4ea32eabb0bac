"""Ctrl-C and SIGTERM during a training run: never lost, never half-applied.

Python turns SIGINT into a KeyboardInterrupt wherever the main thread happens to be, which may
be inside library code that swallows it (MLflow's logging) or between creating an MLflow run
and remembering it, or inside a `__del__` or garbage-collector callback, where Python prints
"Exception ignored" and carries on. `watch_interrupts` remembers every such signal, so the
caller can check at the end whether one came at all; `Interrupts.deferred` holds them back
during steps that must not be cut in half (starting a run, registering a version, ending the
run). A watch opened inside another one is the same watch: the `train` command watches from its
first step, so no signal falls into a gap where Python's own handler is back (and its
KeyboardInterrupt may be swallowed unseen); once a version is registered (`commit`), later
signals are only remembered: the work is done and stays done.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    """The signals seen during a block; raised as KeyboardInterrupt unless deferred."""

    def __init__(self) -> None:
        self.seen: int | None = None
        self.deferring = False
        self.committed = False

    def handle(self, signum: int, frame: FrameType | None) -> None:
        """Signal handler: remember the signal; raise unless a deferred step is running."""
        self.seen = signum
        if not self.deferring:
            raise KeyboardInterrupt

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """A step that signals do not cut in half (they are remembered, checked afterwards)."""
        before, self.deferring = self.deferring, True
        try:
            yield
        finally:
            self.deferring = before or self.committed

    def commit(self) -> None:
        """The point of no return has passed (a version is registered and its run finished):
        signals from now on are remembered, never raised."""
        self.deferring = True
        self.committed = True

    def check(self) -> None:
        """Raise KeyboardInterrupt if a signal came at any time (even if something swallowed
        the KeyboardInterrupt it raised)."""
        if self.seen is not None:
            raise KeyboardInterrupt


@contextmanager
def watch_interrupts() -> Iterator[Interrupts]:
    """Watch SIGINT and SIGTERM for the block (main thread only; elsewhere a no-op watcher);
    inside another watch, that watch."""
    outer = getattr(signal.getsignal(signal.SIGINT), "__self__", None)
    if isinstance(outer, Interrupts):
        yield outer
        return
    watcher = Interrupts()
    if threading.current_thread() is not threading.main_thread():
        yield watcher
        return
    previous = {s: signal.signal(s, watcher.handle) for s in SIGNALS}
    try:
        yield watcher
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
