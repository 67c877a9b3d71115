"""How much of a build is redone → when and where its EPUBCheck runs (book.pipeline asks).

A clean build keeps the order chosen for its memory peak and CPU: the EPUB is checked once the
layout workers are gone, by the command line's JVM (or a server already running). A build that
redoes a few parts only (an edit) has no such peak and waits on EPUBCheck instead: it warms a
server (book.check.daemon) on the previous EPUB while its parts are laid out, and checks the new
EPUB as soon as it is written.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from book.engine.cache import Cache

INCREMENTAL_SHARE = 4  # at most one part in four redone


def incremental(redone: int, total: int) -> bool:
    """Few parts redone: at least one unchanged for every one redone (and something unchanged)."""
    return total > 0 and redone * INCREMENTAL_SHARE <= total


def misses(log: Iterable[tuple[str, str, bool]], stage: str) -> tuple[int, int]:
    """(redone, looked up) for one cache stage, from a Cache's log of (stage, key, hit)."""
    looked = [hit for s, _, hit in log if s == stage]
    return sum(1 for hit in looked if not hit), len(looked)


def server_mode(incremental_build: bool) -> str:
    """A build's use of EPUBCheck's server: "start" one (an edit), or "use" one that runs."""
    return "start" if incremental_build else "use"


def few_redone(cache: Cache | None, stage: str) -> bool:
    """Whether a build redid few of a stage's calls so far (by its cache's log): an edit's build."""
    return incremental(*misses(cache.log if cache is not None else [], stage))


def warm_server(previous: Path) -> None:
    """EPUBCheck's server started and warmed on the previous build's EPUB, in the background."""
    if not previous.is_file():
        return
    from book.check import daemon
    from book.check.epubcheck import epubcheck_jar

    threading.Thread(target=daemon.warm_up, args=(epubcheck_jar(), previous), daemon=True).start()
