"""Source dates: the manuscript's files → the date a book without `date` or `last_updated` is stamped with.

The newest git commit touching the sources (what an author's history says), else today: never
1970, which readers and stores show as a broken date.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=8)
def newest_commit_date(paths: tuple[Path, ...]) -> str | None:
    """The ISO date of the newest commit touching `paths`, or None outside git (or without git)."""
    if not paths:
        return None
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%cs", "--", *(str(p) for p in paths)],
            cwd=paths[0].parent, capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    text = out.stdout.strip()
    try:
        return dt.date.fromisoformat(text).isoformat() if out.returncode == 0 and text else None
    except ValueError:
        return None


def fallback_date(paths: tuple[Path, ...]) -> str:
    return newest_commit_date(paths) or dt.date.today().isoformat()
