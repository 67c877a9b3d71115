"""A call run in a short-lived forked process → its result here, and its memory gone with the process.

Some work leaves a process bigger for good though its result is small: a WeasyPrint layout loads
fonts into Pango's and fontconfig's caches and fragments the heap, none of which `malloc_trim`
gives back. The EPUB's cover (one WeasyPrint page rendered to a PNG) left the build's parent
~60 MB larger, while it sat beside the PDF workers and, later, beside the stitch and EPUBCheck's
JVM, the build's memory peak. Forked, the child shares the parent's pages (WeasyPrint is already
imported) and gives all of its own back when it exits.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_isolated(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` in a forked child (Linux; elsewhere here); its exceptions are raised here.

    `fn` must be a module-level function and its result picklable.
    """
    if not sys.platform.startswith("linux"):
        return fn(*args)
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        return pool.submit(fn, *args).result()
