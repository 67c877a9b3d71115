"""One benchmark result → appended to the history in `bench.json`, and that history → `bench.png`.

`bench.json` is `{"history": [entry, …]}`, oldest first; each entry is one `make bench` (commit,
date, machine, figures, targets). A run appends to it and never drops an earlier entry: a file in
the previous single-result format becomes the first entry, and a file that does not parse is kept
beside it (`bench.json.unreadable-<time>`) rather than overwritten. The file is replaced
atomically, so an interrupted bench leaves the old history whole.

The plot shows the figures of every run of the same kind as the newest one (full or BENCH_QUICK)
against the runs, so that a regression shows as a step up in a line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from book.engine.atomic import atomic_path, write_text

FORMAT = 2


def commit(root: Path) -> str:
    """The checked-out commit, `+dirty` when the work tree differs from it, or `unknown`."""
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True, check=True, timeout=10).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def load(path: Path) -> list[dict[str, Any]]:
    """The history stored at `path` (empty when there is none); an unreadable file is set aside."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("history"), list):
        return data["history"]
    if isinstance(data, dict) and "scenarios" in data:  # a single result, from before the history
        date = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).replace(microsecond=0).isoformat()
        return [{"commit": "unknown", "date": date, "format": 1, **data}]
    aside = path.with_name(f"{path.name}.unreadable-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}")
    os.replace(path, aside)
    return []


def append(path: Path, entry: dict[str, Any]) -> list[dict[str, Any]]:
    """Add `entry` to the history at `path` and write it back atomically; returns the history."""
    history = [*load(path), entry]
    write_text(path, json.dumps({"history": history}, ensure_ascii=False, indent=1) + "\n")
    return history


# --- the plot ------------------------------------------------------------------------------------

# (title, book — None for both books' clean builds against plain —, figure, unit)
PANELS = (
    ("sample: wall time", "sample", "wall_s", "s"),
    ("{chapters}-chapter book: wall time", "book", "wall_s", "s"),
    ("CPU time (user+sys, children)", None, "cpu_s", "s"),
    ("peak memory (process tree PSS)", None, "peak_pss_mb", "MB"),
)
LINES = (("clean make", "clean"), ("one-paragraph edit", "edit"), ("nothing changed", "nochange"),
         ("preview save → reload", "preview"), ("preview save → page shown", "shown"),
         ("plain pandoc → WeasyPrint", "plain"))  # fmt: skip


def _figure(entry: dict[str, Any], book: str, scenario: str, figure: str) -> float | None:
    s = entry.get("books", {}).get(book, {}).get(scenario)
    return s.get(figure) if isinstance(s, dict) else None


def _short(commit: str) -> str:
    return commit[:7] + ("+" if commit.endswith("+dirty") else "")


def plot(history: list[dict[str, Any]], target: Path) -> None:
    """The history's figures, one point per run of the newest run's kind, in `target` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kind = history[-1].get("quick") if history else None
    runs = [e for e in history if e.get("format") == FORMAT and e.get("quick") == kind]
    xs = list(range(len(runs)))
    ticks = [f"{_short(e.get('commit', '?'))}\n{e.get('date', '')[:10]}" for e in runs]
    chapters = history[-1].get("books", {}).get("book", {}).get("chapters", "?") if history else "?"
    fig, axes = plt.subplots(2, 2, figsize=(12, 8), dpi=100)
    for ax, (title, book, figure, unit) in zip(axes.flat, PANELS, strict=True):
        if book is not None:
            series = [(label, book, scen) for label, scen in LINES]
        else:  # both books, what a clean build costs against the plain pipeline
            series = [(f"{b}: {label}", b, scen) for b in ("sample", "book")
                      for label, scen in LINES if scen in ("clean", "plain")]  # fmt: skip
        for label, b, scen in series:
            ys = [_figure(e, b, scen, figure) for e in runs]
            if any(y is not None for y in ys):
                style = "s--" if scen == "plain" else "o-"
                ax.plot(xs, [float("nan") if y is None else y for y in ys], style, label=label)
        ax.set_title(title.format(chapters=chapters))
        ax.set_ylabel(unit)
        ax.set_xticks(xs, ticks, fontsize=7)
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    what = "BENCH_QUICK smoke runs" if kind else "full runs"
    fig.suptitle(f"make bench history ({len(runs)} {what}; medians; shared machine: see load_avg)")
    fig.tight_layout()
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
