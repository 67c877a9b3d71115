"""Memoised calls: (stage, function, argument lists) → results, from the cache or computed (in parallel).

A call's key is the hash of the function's name, its arguments and the toolchain, so a function used
this way must be a pure, module-level function of its arguments: a per-part PDF layout, say.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from book.engine.cache import Cache, digest, toolchain_fingerprint
from book.engine.order import largest_first

T = TypeVar("T")
# Entries kept per stage and call, most recently used first: enough for a few formats and profiles
# side by side (print, screen, review) and for undoing an edit, without the cache growing with every edit.
KEEP_VERSIONS = 4


def plain(x: Any) -> Any:
    """Data for hashing: paths as their text (`digest` would hash a Path by its content), dataclasses
    as dicts of their fields."""
    if isinstance(x, Path):
        return str(x)
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
    return x


def memo_map(
    cache: Cache,
    stage: str,
    fn: Callable[..., T],
    calls: list[tuple[Any, ...]],
    executor: Any = None,
    meanwhile: Callable[[], None] | None = None,
    done: Callable[[int], None] | None = None,
    pooled_from: int = 2,
    size: Callable[[tuple[Any, ...]], int] | None = None,
) -> list[T]:
    """`[fn(*args) for args in calls]` where each call is looked up in the cache first and the
    misses run on `executor` (a process pool) when there are `pooled_from` of them or more (else
    here), while `meanwhile` runs here (it runs once in any case). Results come back in call order;
    `done(n)` is told of each n calls finished (a progress bar). With `size`, the misses go to the
    pool largest first (book.engine.order).
    """
    tell = done or (lambda n: None)
    keys = [digest(stage, toolchain_fingerprint(), fn.__module__, fn.__qualname__, plain(list(a))) for a in calls]
    results: list[Any] = [None] * len(calls)
    todo = []
    for i, key in enumerate(keys):
        hit = cache.load(stage, key)
        cache.note(stage, key, hit is not None)
        if hit is not None:
            results[i] = hit
        else:
            todo.append(i)
    tell(len(calls) - len(todo))
    if size is not None:
        todo = [todo[k] for k in largest_first([calls[i] for i in todo], size)]
    if executor is not None and len(todo) >= pooled_from:
        pending = executor.map(fn, *zip(*(calls[i] for i in todo), strict=True))  # submits them all
        if meanwhile is not None:
            meanwhile()
        computed = []
        for value in pending:  # in call order, as each comes back
            computed.append(value)
            tell(1)
    else:
        computed = []
        for i in todo:
            computed.append(fn(*calls[i]))
            tell(1)
        if meanwhile is not None:
            meanwhile()
    for i, value in zip(todo, computed, strict=True):
        results[i] = value
        cache.store(stage, keys[i], value)
    cache.trim(stage, keep=KEEP_VERSIONS * max(1, len(calls)))
    return results
