"""Benchmark: what authors run (`make`, an edit, nothing changed, the preview's reload) and the plain
`pandoc → WeasyPrint` pipeline on the same sources → a table, and one entry more in the history of
`build/bench.json`, plotted in `build/bench.png`.

Each scenario runs on the sample book (a copy of book.yaml and seeds/) and on a generated 30-chapter
book (chapter 8 repeated with distinct numbers and titles, in a temporary folder, never committed):
a clean `make` (`book build`, EPUBCheck included), `make` after a one-paragraph edit, `make` with
nothing changed, and in `book preview` the time from saving a one-paragraph edit to the server
announcing the reload and to the reader page (headless Chromium) showing it (book/bench_preview.py). Every measured build runs as its own subprocess:
wall time from the clock, CPU time (user + sys, children included) and the largest single-process
RSS from `wait4`, and the peak RSS and PSS of the whole process tree (our workers, Pandoc,
WeasyPrint, the JVM) by polling /proc. EPUBCheck's server (book.check.daemon), which an edit's
build starts and leaves running, is counted with the build it works for (its CPU during the run,
its PSS in the peak), and stopped before each clean build, so a clean figure is a first build's. Each figure is the median of `BENCH_RUNS` runs (default 3).
`BENCH_QUICK=1` uses an excerpt of the chapter, 1 and 2 chapters and one run: a smoke test of the
benchmark itself, not a measurement.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from book.model import PROJECT_ROOT
from book.tools.bench_measure import Run, Stats, measure, stop_servers

SEED_CHAPTER = PROJECT_ROOT / "seeds" / "08-meta-open-source.md"
PLAIN_CSS = """@page { size: A4; margin: 2cm; }
html { font-family: "Noto Serif CJK SC", serif; line-height: 1.6; }
h1, h2, h3 { font-family: "Noto Sans CJK SC", sans-serif; }
"""
# Targets of the issue "speed as the user runs it": (label, book, scenario, measure, limit). A
# measure is a figure of the scenario (`wall_s`) or its ratio to the book's plain pipeline or to
# its clean build (see `targets`).
TARGETS = (
    ("sample clean make / plain PDF (wall)", "sample", "clean", "wall_vs_plain", 2.0),
    ("sample nothing changed (s)", "sample", "nochange", "wall_s", 0.3),
    ("30-chapter one-paragraph edit / its clean make (wall)", "book", "edit", "wall_vs_clean", 0.2),
    ("30-chapter clean make / plain (wall)", "book", "clean", "wall_vs_plain", 1.2),
    ("30-chapter clean make / plain peak memory (tree PSS)", "book", "clean", "pss_vs_plain", 0.6),
    ("30-chapter preview: save → reload (s)", "book", "preview", "wall_s", 1.0),
    ("30-chapter preview: save → page shown (s)", "book", "shown", "wall_s", 1.0),
)


def pdf_pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(str(path)).pages)


# --- the books ------------------------------------------------------------------------------------


def excerpt(body: str, limit: int) -> str:
    """The body cut at the last paragraph break before `limit` characters."""
    if len(body) <= limit:
        return body
    cut = body.rfind("\n\n", 0, limit)
    return body[: cut if cut > 0 else limit] + "\n"


def chapter_text(seed: str, n: int, quick: bool) -> str:
    """The seed chapter renumbered as chapter `n` with its own title (front matter and body heading)."""
    _, front, body = seed.split("---\n", 2)
    front = re.sub(r"(?m)^chapter_number:.*$", f"chapter_number: {n}", front)
    front = re.sub(r'(?m)^title: "?(.*?)"?$', lambda m: f'title: "{m.group(1)}（其{n}）"', front, count=1)
    body = re.sub(r"(?m)^# Chapter \d+:", f"# Chapter {n}:", body, count=1)
    if quick:
        body = excerpt(body, 3000)
    return f"---\n{front}---\n{body}"


def make_book(dest: Path, chapters: int, quick: bool) -> Path:
    """A book of `chapters` copies of chapter 8 in `dest`; returns its book.yaml."""
    seed = SEED_CHAPTER.read_text(encoding="utf-8")
    src = dest / "chapters"
    src.mkdir(parents=True, exist_ok=True)
    for n in range(1, chapters + 1):
        (src / f"{n:02d}.md").write_text(chapter_text(seed, n, quick), encoding="utf-8")
    config = dest / "book.yaml"
    config.write_text(
        "title: 基准测试之书\nauthors: [佚名]\nlanguage: zh-Hans\ndate: 2025-10-17\nslug: bench\n"
        "chapters:\n  - chapters/*.md\n",
        encoding="utf-8",
    )
    return config


def book_sources(config: Path) -> list[Path]:
    from book.source.config import load_config

    return [s.path for s in load_config(config).sources]


# --- the two pipelines ----------------------------------------------------------------------------


def ours(config: Path, out: Path, clean: bool) -> Run:
    """`make`: `book build --format all` into `out`, EPUBCheck included (emptied first when `clean`)."""
    if clean:
        shutil.rmtree(out, ignore_errors=True)
        stop_servers()  # a first build meets no warm EPUBCheck; an edit then starts one (book.check.daemon)
    cmd = [sys.executable, "-m", "book", "build", "--format", "all", "--config", str(config), "--out", str(out)]
    run = measure(cmd, cwd=config.parent, env={**os.environ, "BOOK_PROGRESS": "0"})
    pdfs = [p for p in out.glob("*.pdf")]
    run.pages = pdf_pages(pdfs[0]) if pdfs else 0
    return run


def plain(sources: list[Path], work: Path) -> Run:
    """pandoc (all sources → one standalone HTML, minimal CJK CSS) then the weasyprint CLI, A4."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    css = work / "plain.css"
    css.write_text(PLAIN_CSS, encoding="utf-8")
    html, pdf = work / "plain.html", work / "plain.pdf"
    from book.parts.convert import pandoc_binary

    pandoc = [pandoc_binary(), "-f", "markdown", "-t", "html5", "--standalone", "--embed-resources",
              "--metadata", "lang=zh-CN", "--metadata", "title=plain", "--css", str(css),
              "-o", str(html), *map(str, sources)]  # fmt: skip
    weasy = [sys.executable, "-m", "weasyprint", str(html), str(pdf)]
    script = f"{subprocess.list2cmdline(pandoc)} && {subprocess.list2cmdline(weasy)}"
    run = measure(["/bin/sh", "-c", script], cwd=work)
    run.pages = pdf_pages(pdf)
    return run


# --- scenarios ------------------------------------------------------------------------------------

SCENARIOS = ("clean", "edit", "nochange", "preview", "shown")  # shown: only where Chromium is
NOT_PROSE = tuple("#-*+|>![<`=:")


def _is_prose(line: str) -> bool:
    """A line of a paragraph of Chinese text: not a heading, list, table, quote, image or HTML."""
    text = line.strip()
    return (
        len(text) >= 20
        and not text.startswith(NOT_PROSE)
        and not re.match(r"\d+[.)]", text)
        and re.search(r"[\u4e00-\u9fff]", text) is not None
    )


def edit_paragraph(source: Path, i: int) -> None:
    """Change one paragraph in the middle of `source` (a clause appended, different for each `i`)."""
    with open(source, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    start, fenced, prose = 0, False, []
    if lines and lines[0].rstrip("\r") == "---":  # front matter
        start = next((n + 1 for n in range(1, len(lines)) if lines[n].rstrip("\r") == "---"), 0)
    for n in range(start, len(lines)):
        if lines[n].lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and _is_prose(lines[n]):
            prose.append(n)
    if not prose:
        raise RuntimeError(f"{source}: no paragraph of text to edit")
    n = prose[len(prose) // 2]
    body = lines[n].rstrip("\r\n ")
    lines[n] = body + f"基准测试第{i + 1}次修改了这一段。" + lines[n][len(body) :].lstrip(" ")
    # Written over in place, then cut to length, not truncated first: the preview's watcher, 20 ms
    # after a change, once rebuilt from the empty file between a truncating open and its write on a
    # loaded machine ("file is empty") and the bench stopped on that error.
    data = "\n".join(lines).encode("utf-8")
    fd = os.open(source, os.O_WRONLY)
    try:
        os.write(fd, data)
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


def edited_chapter(sources: list[Path]) -> Path:
    """The middle chapter: the one an author edits."""
    chapters = [p for p in sources if p.suffix == ".md"] or sources
    return chapters[len(chapters) // 2]


def copy_sample(dest: Path) -> Path:
    """The repository's book (book.yaml and seeds/) in `dest`, so that edits never touch it."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(PROJECT_ROOT / "book.yaml", dest / "book.yaml")
    shutil.copytree(PROJECT_ROOT / "seeds", dest / "seeds")
    return dest / "book.yaml"


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def bench_book(name: str, config: Path, tmp: Path, runs: int, log: Any = print) -> dict[str, Any]:
    """Every scenario on one book, beside the plain pipeline on the same sources."""
    from book.tools.bench_preview import save_to_reload

    out, work = tmp / f"out-{name}", tmp / f"plain-{name}"
    sources = book_sources(config)
    victim = edited_chapter(sources)
    stats = {k: Stats() for k in (*SCENARIOS, "plain")}
    log(f"{name} ({len(sources)} sources): clean make ×{runs}, interleaved with plain pandoc → WeasyPrint")
    for _ in range(runs):
        stats["clean"].runs.append(ours(config, out, clean=True))
        stats["plain"].runs.append(plain(sources, work))
    log(f"{name}: make after a one-paragraph edit of {victim.name} ×{runs}, then with nothing changed ×{runs}")
    for i in range(runs):
        edit_paragraph(victim, i)
        stats["edit"].runs.append(ours(config, out, clean=False))
    for _ in range(runs):
        stats["nochange"].runs.append(ours(config, out, clean=False))
    log(f"{name}: book preview, save → reload ×{runs}")
    edits = [lambda i=i: edit_paragraph(victim, runs + i) for i in range(runs)]
    env = {**os.environ, "BOOK_PROGRESS": "0"}
    announced, shown = save_to_reload(config, out, edits, env, edited=victim)
    stats["preview"].runs.extend(announced)
    stats["shown"].runs.extend(shown)
    result: dict[str, Any] = {"sources": len(sources), **{k: v.summary() for k, v in stats.items() if v.runs}}
    base, clean = result["plain"], result["clean"]
    for k in SCENARIOS:
        if k not in result:
            continue
        s = result[k]
        s["wall_vs_plain"] = ratio(s["wall_s"], base["wall_s"])
        s["cpu_vs_plain"] = ratio(s["cpu_s"], base["cpu_s"])
        s["pss_vs_plain"] = ratio(s["peak_pss_mb"], base["peak_pss_mb"])
        s["wall_vs_clean"] = ratio(s["wall_s"], clean["wall_s"]) if k != "clean" else None
        s["cpu_vs_clean"] = ratio(s["cpu_s"], clean["cpu_s"]) if k != "clean" else None
    return result


def targets(books: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for label, book, scenario, name, limit in TARGETS:
        value = books.get(book, {}).get(scenario, {}).get(name)
        found.append({"target": label, "value": value, "limit": limit, "met": value is not None and value <= limit})
    return found


def run_bench(runs: int, quick: bool, log: Any = print) -> dict[str, Any]:
    """Both books through every scenario: the figures of one history entry."""
    tmp = Path(tempfile.mkdtemp(prefix="book-bench-"))
    chapters = 2 if quick else 30
    result: dict[str, Any] = {
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "runs": runs,
        "quick": quick,
        "books": {},
    }
    try:
        sample = make_book(tmp / "sample", 1, quick) if quick else copy_sample(tmp / "sample")
        result["books"]["sample"] = bench_book("sample", sample, tmp, runs, log)
        big = make_book(tmp / "book", chapters, quick)
        result["books"]["book"] = {"chapters": chapters, **bench_book(f"{chapters}-chapter book", big, tmp, runs, log)}
    finally:
        stop_servers()  # the last edit's, which would otherwise idle on for minutes
        shutil.rmtree(tmp, ignore_errors=True)
    loads = [r["load"] for b in result["books"].values() for k in SCENARIOS if k in b for r in b[k]["runs"]]
    result["load_avg"] = [round(min(loads), 1), round(max(loads), 1)]
    result["targets"] = targets(result["books"])
    return result


def _num(x: float | None, fmt: str = "{:.2f}") -> str:
    return "-" if x is None else fmt.format(x)


def table(entry: dict[str, Any], previous: dict[str, Any] | None = None) -> str:
    """The entry's figures, its targets, and how its wall times moved since `previous`."""
    head = ("book", "scenario", "wall s", "cpu s", "PSS MB", "RSS MB", "pages", "pages/cpu-s", "wall/plain",
            "cpu/plain", "PSS/plain", "wall/clean")  # fmt: skip
    rows = [head]
    for book, b in entry["books"].items():
        for k in (*SCENARIOS, "plain"):
            if k not in b:
                continue
            m = b[k]
            rows.append((book, k, _num(m["wall_s"]), _num(m["cpu_s"]), _num(m["peak_pss_mb"], "{:.0f}"),
                         _num(m["peak_rss_mb"], "{:.0f}"), str(m["pages"] or "-"), _num(m["pages_per_cpu_s"], "{}"),
                         _num(m.get("wall_vs_plain")), _num(m.get("cpu_vs_plain")), _num(m.get("pss_vs_plain")),
                         _num(m.get("wall_vs_clean"))))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.append("")
    lines.append("make = book build --format all (EPUBCheck included); preview = save → the server's reload event;")
    lines.append("shown = save → the reader page (headless Chromium, at the edited chapter) showing the new text;")
    lines.append("cpu = user+sys of the process tree; PSS/RSS = peak of the process tree, polled")
    lo, hi = entry["load_avg"]
    lines.append(f"1-min load average during our runs: {lo}–{hi} on {entry['machine']['cores']} cores")
    for t in entry["targets"]:
        lines.append(f"{'MET ' if t['met'] else 'MISS'} {t['target']}: {t['value']} (target ≤ {t['limit']})")
    if previous is not None:
        moved = []
        for book, b in entry["books"].items():
            for k in SCENARIOS:
                if k not in b:
                    continue
                before = previous.get("books", {}).get(book, {}).get(k, {}).get("wall_s")
                if before:
                    moved.append(f"{book} {k} {100 * (b[k]['wall_s'] - before) / before:+.0f}%")
        if moved:
            lines.append(
                f"wall time since {previous.get('commit', '?')} ({previous.get('date', '?')}): " + ", ".join(moved)
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from book.tools.bench_history import FORMAT, append, commit, now, plot

    ap = argparse.ArgumentParser(prog="book bench", description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(PROJECT_ROOT / "build"), help="folder for bench.json and bench.png")
    args = ap.parse_args(argv)
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    runs = int(os.environ.get("BENCH_RUNS", "1" if quick else "3"))
    out = Path(args.out)

    def log(msg: str) -> None:
        print(f"bench: {msg}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    entry = {"format": FORMAT, "commit": commit(PROJECT_ROOT), "date": now(), **run_bench(runs, quick, log)}
    entry["bench_seconds"] = round(time.perf_counter() - started, 1)
    history = append(out / "bench.json", entry)
    plot(history, out / "bench.png")
    same_kind = [e for e in history[:-1] if e.get("format") == FORMAT and e.get("quick") == quick]
    print(table(entry, same_kind[-1] if same_kind else None))
    print(f"\nadded run {len(history)} to {out / 'bench.json'}, plotted in {out / 'bench.png'} "
          f"({entry['bench_seconds']} s)", file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
