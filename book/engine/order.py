"""Tasks and their sizes → the order to hand them to a pool's workers: the largest first.

A pool takes its tasks in the order given. Handed in reading order, a long chapter that comes late
starts when the others are nearly done and is laid out by one worker while the other cores wait;
handed longest first, the short ones fill in beside it and the workers finish together (Graham's
LPT rule: within 4/3 of the best schedule). Results still come back in the caller's order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def largest_first(items: Sequence[T], size: Callable[[T], int]) -> list[int]:
    """The indexes of `items`, largest `size` first; equal sizes keep their order (a stable sort)."""
    return sorted(range(len(items)), key=lambda i: -size(items[i]))
