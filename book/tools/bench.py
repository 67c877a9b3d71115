"""Benchmark: our builds and the plain `pandoc → WeasyPrint` pipeline on the same sources → a table,
`build/bench.json` and `build/bench.png` (time against chapter count).

Every measured build runs as its own subprocess: wall time from the clock, CPU time (user + sys,
children included) and the largest single-process RSS from `wait4`, and the peak RSS and PSS of the whole
process tree (our worker processes, Pandoc, WeasyPrint) by polling /proc. Each figure is the median
of `BENCH_RUNS` runs (default 3). The many-chapter book is chapter 8 repeated with distinct numbers
and titles, generated into a temporary folder (never committed). `BENCH_QUICK=1` uses an excerpt
of the chapter, 1–2 chapters and one run: a smoke test of the benchmark itself, not a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from book.model import PROJECT_ROOT

SEED_CHAPTER = PROJECT_ROOT / "seeds" / "08-meta-open-source.md"
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
PLAIN_CSS = """@page { size: A4; margin: 2cm; }
html { font-family: "Noto Serif CJK SC", serif; line-height: 1.6; }
h1, h2, h3 { font-family: "Noto Sans CJK SC", sans-serif; }
"""
# The speed targets we hold the build to, as (scenario, measure, limit).
TARGETS = (
    ("sample clean (EPUB+PDF) / plain PDF", "sample_clean", "wall_ratio", 1.5),
    ("no-change rebuild (s)", "sample_nochange", "wall", 0.5),
    ("many-chapter clean PDF / plain wall", "book_clean_pdf", "wall_ratio", 0.6),
    ("many-chapter clean PDF / plain peak memory (tree PSS)", "book_clean_pdf", "pss_ratio", 0.6),
    ("many-chapter clean PDF / plain peak RSS (tree sum)", "book_clean_pdf", "rss_ratio", 0.6),
    ("one chapter edited / its clean build", "book_edit", "wall_vs_clean", 0.4),
)


@dataclass
class Run:
    wall: float
    cpu: float
    peak_rss_mb: float  # the process tree's summed RSS, polled
    max_rss_mb: float  # the largest single process's, from wait4
    peak_pss_mb: float = 0.0  # the process tree's summed PSS, polled (shared pages counted once)
    pages: int = 0
    load: float = 0.0  # 1-minute load average when the run started: the machine is shared


@dataclass
class Stats:
    runs: list[Run] = field(default_factory=list)

    def median(self, name: str) -> float:
        return statistics.median(getattr(r, name) for r in self.runs) if self.runs else 0.0

    def summary(self) -> dict[str, Any]:
        wall = self.median("wall")
        pages = self.runs[-1].pages if self.runs else 0
        return {
            "wall_s": round(wall, 3),
            "cpu_s": round(self.median("cpu"), 3),
            "peak_rss_mb": round(self.median("peak_rss_mb"), 1),
            "peak_pss_mb": round(self.median("peak_pss_mb"), 1),
            "max_rss_mb": round(self.median("max_rss_mb"), 1),
            "pages": pages,
            "pages_per_s": round(pages / wall, 1) if wall and pages else None,
            "load_avg": round(self.median("load"), 1),
            "runs": [asdict(r) for r in self.runs],
        }


# --- measuring one subprocess -----------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _tree_memory(root: int) -> tuple[int, int]:
    """(RSS, PSS) summed over the process tree under `root`, in bytes.

    RSS counts a page shared by several processes once per process: forked workers share the
    interpreter, WeasyPrint and the memory-mapped fonts with their parent, so a summed RSS counts
    those two or three times. PSS (proportional set size) divides each shared page among the
    processes sharing it: the memory the tree really occupies. For one process the two agree
    (up to its shared libraries).
    """
    tree = _children()
    rss = pss = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                rss += int(f.read().split()[1]) * PAGE
            with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
                for line in f:
                    if line.startswith(b"Pss:"):
                        pss += int(line.split()[1]) * 1024
                        break
        except (OSError, IndexError, ValueError):
            pass
    return rss, pss


def measure(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """Run `cmd` to completion; its wall, CPU (children included) and peak RSS (tree and single)."""
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    peak = peak_pss = 0
    stop = threading.Event()

    def poll() -> None:
        nonlocal peak, peak_pss
        while not stop.is_set():
            rss, pss = _tree_memory(proc.pid)
            peak, peak_pss = max(peak, rss), max(peak_pss, pss)
            stop.wait(0.05)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        err = proc.stderr.read() if proc.stderr else b""
    except BaseException:
        os.killpg(proc.pid, signal.SIGTERM)  # an interrupted bench leaves none of its builds running
        raise
    stop.set()  # before the wait, while the tree still exists the poller has already sampled it
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    poller.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{err.decode(errors='replace')}")
    max_rss = usage.ru_maxrss / 1024  # KiB on Linux
    return Run(wall, usage.ru_utime + usage.ru_stime, max(peak / 2**20, max_rss), max_rss, peak_pss / 2**20, load=load)


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


def ours(config: Path, out: Path, fmt: str, clean: bool) -> Run:
    if clean:
        shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "book", "build", "--config", str(config), "--out", str(out), "--format", fmt]
    env = {**os.environ, "BOOK_PROGRESS": "0"}
    run = measure([*cmd, "--no-check"], cwd=config.parent, env=env)
    pdfs = [p for p in out.glob("*.pdf")]
    run.pages = pdf_pages(pdfs[0]) if pdfs else 0
    return run


def pandoc_binary() -> str:
    import pypandoc

    bundled = Path(pypandoc.__file__).parent / "files" / "pandoc"
    return str(bundled) if bundled.exists() else "pandoc"


def plain(sources: list[Path], work: Path) -> Run:
    """pandoc (all sources → one standalone HTML, minimal CJK CSS) then the weasyprint CLI, A4."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    css = work / "plain.css"
    css.write_text(PLAIN_CSS, encoding="utf-8")
    html, pdf = work / "plain.html", work / "plain.pdf"
    pandoc = [pandoc_binary(), "-f", "markdown", "-t", "html5", "--standalone", "--embed-resources",
              "--metadata", "lang=zh-CN", "--metadata", "title=plain", "--css", str(css),
              "-o", str(html), *map(str, sources)]  # fmt: skip
    weasy = [sys.executable, "-m", "weasyprint", str(html), str(pdf)]
    script = f"{subprocess.list2cmdline(pandoc)} && {subprocess.list2cmdline(weasy)}"
    run = measure(["/bin/sh", "-c", script], cwd=work)
    run.pages = pdf_pages(pdf)
    return run


# --- scenarios ------------------------------------------------------------------------------------


def _edit(config: Path, i: int) -> None:
    """Append one sentence to the middle chapter (a different one each run, so it always changes)."""
    chapters = sorted((config.parent / "chapters").glob("*.md"))
    victim = chapters[len(chapters) // 2]
    with open(victim, "a", encoding="utf-8") as f:
        f.write(f"\n基准测试第{i + 1}次修改了这一章。\n")


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def run_bench(out: Path, runs: int, quick: bool, growth_runs: int, log: Any = print) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="book-bench-"))
    big = 2 if quick else 30
    counts = [1, 2] if quick else [1, 5, 10, 30]
    result: dict[str, Any] = {
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "runs": runs,
        "quick": quick,
        "scenarios": {},
    }
    scen = result["scenarios"]
    try:
        if quick:
            sample = make_book(tmp / "sample", 1, quick)
        else:
            sample = PROJECT_ROOT / "book.yaml"
        sources = book_sources(sample)
        o, p = Stats(), Stats()
        log(f"sample book ({len(sources)} sources): clean build EPUB+PDF ×{runs}, plain ×{runs}")
        for _ in range(runs):
            o.runs.append(ours(sample, tmp / "out-sample", "all", clean=True))
            p.runs.append(plain(sources, tmp / "plain-sample"))
        scen["sample_clean"] = {"ours": o.summary(), "plain": p.summary()}
        n = Stats()
        log(f"sample book: no-change rebuild ×{runs}")
        for _ in range(runs):
            n.runs.append(ours(sample, tmp / "out-sample", "all", clean=False))
        scen["sample_nochange"] = {"ours": n.summary(), "plain": p.summary()}

        growth: dict[int, tuple[Stats, Stats]] = {}
        for count in counts:
            config = make_book(tmp / f"book{count}", count, quick)
            k = runs if count == big else growth_runs
            o, p = Stats(), Stats()
            log(f"{count}-chapter book: clean PDF ×{k}, plain ×{k}")
            for _ in range(k):
                o.runs.append(ours(config, tmp / f"out{count}", "pdf", clean=True))
                p.runs.append(plain(book_sources(config), tmp / f"plain{count}"))
            growth[count] = (o, p)
            if count == big:
                scen["book_clean_pdf"] = {"chapters": count, "ours": o.summary(), "plain": p.summary()}
                e = Stats()
                log(f"{count}-chapter book: one chapter edited, PDF ×{runs}")
                for i in range(runs):
                    _edit(config, i)
                    e.runs.append(ours(config, tmp / f"out{count}", "pdf", clean=False))
                scen["book_edit"] = {"chapters": count, "ours": e.summary(), "clean": o.summary()}
        result["growth"] = {
            "chapters": counts,
            "ours_wall_s": [growth[c][0].summary()["wall_s"] for c in counts],
            "plain_wall_s": [growth[c][1].summary()["wall_s"] for c in counts],
            "ours_cpu_s": [growth[c][0].summary()["cpu_s"] for c in counts],
            "plain_cpu_s": [growth[c][1].summary()["cpu_s"] for c in counts],
            "ours_pages": [growth[c][0].summary()["pages"] for c in counts],
            "plain_pages": [growth[c][1].summary()["pages"] for c in counts],
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for s in scen.values():
        base = s.get("plain") or s.get("clean")
        s["wall_ratio"] = ratio(s["ours"]["wall_s"], s["plain"]["wall_s"]) if "plain" in s else None
        s["cpu_ratio"] = ratio(s["ours"]["cpu_s"], s["plain"]["cpu_s"]) if "plain" in s else None
        s["rss_ratio"] = ratio(s["ours"]["peak_rss_mb"], s["plain"]["peak_rss_mb"]) if "plain" in s else None
        s["pss_ratio"] = ratio(s["ours"]["peak_pss_mb"], s["plain"]["peak_pss_mb"]) if "plain" in s else None
        s["wall_vs_clean"] = ratio(s["ours"]["wall_s"], base["wall_s"]) if "clean" in s else None
        s["cpu_vs_clean"] = ratio(s["ours"]["cpu_s"], base["cpu_s"]) if "clean" in s else None
    result["targets"] = []
    for label, name, measure_name, limit in TARGETS:
        s = scen.get(name, {})
        value = s["ours"]["wall_s"] if measure_name == "wall" else s.get(measure_name)
        met = value is not None and value <= limit
        result["targets"].append({"target": label, "value": value, "limit": limit, "met": met})
    return result


def table(result: dict[str, Any]) -> str:
    rows = [
        (
            "scenario",
            "who",
            "wall s",
            "cpu s",
            "peak RSS MB",
            "peak PSS MB",
            "pages",
            "pages/s",
            "wall ratio",
            "cpu ratio",
            "RSS ratio",
            "PSS ratio",
        )
    ]
    for name, s in result["scenarios"].items():
        for who in ("ours", "plain", "clean"):
            if who not in s or (who == "clean"):
                continue
            m = s[who]
            rows.append(
                (name, who, f"{m['wall_s']:.2f}", f"{m['cpu_s']:.2f}", f"{m['peak_rss_mb']:.0f}", f"{m['peak_pss_mb']:.0f}", str(m["pages"]),
                 str(m["pages_per_s"] or "-"), str(s["wall_ratio"] or s["wall_vs_clean"] or "-") if who == "ours" else "",
                 str(s["cpu_ratio"] or s["cpu_vs_clean"] or "-") if who == "ours" else "",
                 str(s["rss_ratio"] or "-") if who == "ours" else "",
                 str(s["pss_ratio"] or "-") if who == "ours" else "")
            )  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    g = result.get("growth", {})
    if g:
        lines.append("")
        lines.append("chapters     " + "  ".join(f"{c:>7}" for c in g["chapters"]))
        lines.append("ours wall s  " + "  ".join(f"{v:7.2f}" for v in g["ours_wall_s"]))
        lines.append("plain wall s " + "  ".join(f"{v:7.2f}" for v in g["plain_wall_s"]))
        lines.append("ours cpu s   " + "  ".join(f"{v:7.2f}" for v in g["ours_cpu_s"]))
        lines.append("plain cpu s  " + "  ".join(f"{v:7.2f}" for v in g["plain_cpu_s"]))
    lines.append("")
    lines.append("ratios: ours/plain, or for book_edit ours/its clean build; cpu = user+sys incl. children")
    loads = [s["ours"]["load_avg"] for s in result["scenarios"].values()]
    lines.append(f"1-min load average during our runs: {min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} cores")
    for t in result["targets"]:
        lines.append(f"{'MET ' if t['met'] else 'MISS'} {t['target']}: {t['value']} (target ≤ {t['limit']})")
    return "\n".join(lines)


def plot(result: dict[str, Any], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g = result["growth"]
    # Wall time depends on what else the shared machine runs; CPU time (children included) does not.
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    for ax, what, label in ((axes[0], "wall_s", "wall time (s)"), (axes[1], "cpu_s", "CPU time, user+sys (s)")):
        ax.plot(g["chapters"], g[f"ours_{what}"], "o-", label="book (ours), clean PDF")
        ax.plot(g["chapters"], g[f"plain_{what}"], "s--", label="plain pandoc → WeasyPrint")
        ax.set_xlabel("chapters")
        ax.set_ylabel(label)
        ax.set_xticks(g["chapters"])
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle("Build time against chapter count")
    fig.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="book bench", description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(PROJECT_ROOT / "build"), help="folder for bench.json and bench.png")
    args = ap.parse_args(argv)
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    runs = int(os.environ.get("BENCH_RUNS", "1" if quick else "3"))
    growth_runs = int(os.environ.get("BENCH_GROWTH_RUNS", "1"))
    out = Path(args.out)

    def log(msg: str) -> None:
        print(f"bench: {msg}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    result = run_bench(out, runs, quick, growth_runs, log)
    result["bench_seconds"] = round(time.perf_counter() - started, 1)
    out.mkdir(parents=True, exist_ok=True)
    from book.engine.atomic import write_text

    write_text(out / "bench.json", json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    plot(result, out / "bench.png")
    print(table(result))
    print(f"\nwrote {out / 'bench.json'} and {out / 'bench.png'} in {result['bench_seconds']} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
