"""Ctrl-C during training is never lost: not when a library swallows the KeyboardInterrupt,
not between steps, and never after a version is registered (the work is then done)."""

from __future__ import annotations

import contextlib
import os
import signal

import pytest

from training.interrupts import watch_interrupts


def swallowing(call) -> None:
    """What a library (or a `__del__` run by the garbage collector) does to a KeyboardInterrupt."""
    with contextlib.suppress(BaseException):
        call()


def ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)


def test_a_swallowed_interrupt_is_remembered_and_raised_at_the_check() -> None:
    with watch_interrupts() as interrupts:
        swallowing(ctrl_c)
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()


def test_an_inner_watch_is_the_outer_one() -> None:
    """The train command watches from its first step; the logged run's own watch is the same,
    so a signal swallowed before the logging is still seen by the logging's check."""
    before = signal.getsignal(signal.SIGINT)
    with watch_interrupts() as outer:
        swallowing(ctrl_c)  # e.g. while features are built
        with watch_interrupts() as inner:
            assert inner is outer
            with pytest.raises(KeyboardInterrupt):
                inner.check()
        assert signal.getsignal(signal.SIGINT) == outer.handle  # still watched
    assert signal.getsignal(signal.SIGINT) == before


def test_deferred_steps_hold_signals_back_and_commit_holds_them_for_good() -> None:
    with watch_interrupts() as interrupts:
        with interrupts.deferred():
            ctrl_c()  # not raised inside: starting a run or registering is not cut in half
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()
        interrupts.seen = None
        interrupts.commit()
        ctrl_c()  # after the point of no return: remembered, never raised
        with interrupts.deferred():
            pass
        ctrl_c()
        assert interrupts.seen == signal.SIGINT
