"""The one way library code reports progress: call a `Say` with a short line of text.

Library functions in features/ and training/ take `say: Say = silent` and never print; the
console module in detection/ supplies the implementation the user sees (dim lines on stderr).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Say(Protocol):
    """Tell the user, in a few words, what a long step is doing now."""

    def __call__(self, text: str, /) -> None: ...


Advance = Callable[[int], None]  # "n more items done" (drives a progress bar)


def silent(text: str, /) -> None:
    """A `Say` that says nothing: the default of every library function."""
