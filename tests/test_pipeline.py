"""Pipeline caching and parallelism: what is recomputed, what is replayed, what stays untouched."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from book import pipeline
from book.errors import Diagnostics
from book.model import PROJECT_ROOT
from tests.conftest import write_chapter

CH = """---
chapter_number: {n}
title: "第{n}章的标题"
title_en: "Chapter {n}"
period: "2020"
technical_concepts: [concept]
status: draft
last_updated: 2025-10-0{n}
---

# Chapter {n}: 标题

## 引言 (Introduction)

第{n}章的正文。{extra}
"""


@pytest.fixture
def book(book_dir: Path) -> Path:
    for n in (1, 2, 3):
        write_chapter(book_dir, f"{n:02d}.md", CH.format(n=n, extra=""))
    return book_dir


def prepare(book: Path, out: Path, **kw):
    diag = Diagnostics(echo=False)
    build = pipeline.prepare(book / "book.yaml", out, diag, **kw)
    return build, diag


def misses(build) -> list[str]:
    return [key for stage, key, hit in build.cache.log if stage == "part" and not hit]


@pytest.fixture
def count_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Part ids passed to process_part (serial runs only: workers are other processes)."""
    calls: list[str] = []
    from book.parts import process

    real = process.process_part

    def spy(config, part, diag, *rest):
        calls.append(part.id)
        return real(config, part, diag, *rest)

    monkeypatch.setattr(process, "process_part", spy)
    return calls


def test_unchanged_sources_are_not_processed_again(book: Path, tmp_path: Path, count_calls: list[str]) -> None:
    out = tmp_path / "out"
    first, _ = prepare(book, out, jobs=1)
    assert count_calls == ["ch01", "ch02", "ch03"] and len(misses(first)) == 3
    second, _ = prepare(book, out, jobs=1)
    assert count_calls == ["ch01", "ch02", "ch03"]  # nothing more
    assert misses(second) == [] and second.cache.hits == 3
    assert [p.body for p in second.parts] == [p.body for p in first.parts]


def test_one_edited_chapter_is_the_only_one_redone(book: Path, tmp_path: Path, count_calls: list[str]) -> None:
    out = tmp_path / "out"
    prepare(book, out, jobs=1)
    write_chapter(book, "02.md", CH.format(n=2, extra="新加的一句。"))
    build, _ = prepare(book, out, jobs=1)
    assert count_calls[3:] == ["ch02"]
    assert "新加的一句" in next(p for p in build.parts if p.id == "ch02").body


def test_a_changed_template_invalidates_every_part(book: Path, tmp_path: Path, count_calls: list[str]) -> None:
    out = tmp_path / "out"
    tpl = book / "tpl"
    tpl.mkdir()
    shutil.copy(PROJECT_ROOT / "templates" / "chapter.html.j2", tpl / "chapter.html.j2")
    with open(book / "book.yaml", "a", encoding="utf-8") as f:
        f.write("templates: tpl\n")
    prepare(book, out, jobs=1)
    text = (tpl / "chapter.html.j2").read_text(encoding="utf-8")
    (tpl / "chapter.html.j2").write_text(text + "\n<!-- changed -->\n", encoding="utf-8")
    build, _ = prepare(book, out, jobs=1)
    assert count_calls == ["ch01", "ch02", "ch03"] * 2
    assert all("changed" in p.body for p in build.parts if p.kind == "chapter")


def test_a_corrupt_part_entry_is_rebuilt(book: Path, tmp_path: Path, count_calls: list[str]) -> None:
    out = tmp_path / "out"
    first, _ = prepare(book, out, jobs=1)
    entries = sorted((out / ".cache" / "part").rglob("*"), key=lambda p: p.name)
    victim = next(p for p in entries if p.is_file())
    victim.write_bytes(victim.read_bytes()[:100])
    second, _ = prepare(book, out, jobs=1)
    assert len(count_calls) == 4  # exactly the damaged part again
    assert [p.body for p in second.parts] == [p.body for p in first.parts]


def test_cached_parts_replay_their_warnings(book_dir: Path, tmp_path: Path) -> None:
    write_chapter(book_dir, "01.md", CH.format(n=1, extra="\n\n![图](https://example.com/x.png)\n"))
    out = tmp_path / "out"
    _, diag1 = prepare(book_dir, out)
    build, diag2 = prepare(book_dir, out)
    assert build.cache.hits == 1
    assert [p.message for p in diag1.warnings] == [p.message for p in diag2.warnings]
    assert any("remote image" in p.message for p in diag2.warnings)


def test_parallel_equals_serial(book_dir: Path, tmp_path: Path) -> None:
    for n in (1, 2, 3, 4):
        extra = f"\n\n![图{n}](https://example.com/{n}.png)\n"
        write_chapter(book_dir, f"{n:02d}.md", CH.format(n=n, extra=extra))
    serial, d1 = prepare(book_dir, tmp_path / "a", jobs=1, use_cache=False)
    parallel, d2 = prepare(book_dir, tmp_path / "b", jobs=2, use_cache=False)
    assert [p.body for p in serial.parts] == [p.body for p in parallel.parts]
    assert [str(p) for p in d1.problems] == [str(p) for p in d2.problems]
    assert not (tmp_path / "b" / ".cache").exists()


# What a no-change rebuild must not import: the tools (a second to import), and the modules only a
# real build uses (the imprint's barcode and Pillow, the templates, lxml: 0.3 s of a 0.6 s rebuild).
HEAVY = ("weasyprint", "pypandoc", "ebooklib", "jinja2", "lxml", "PIL", "barcode", "importlib.metadata")


def build_cli(book: Path, out: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    code = (
        f"import sys; HEAVY = {HEAVY!r}; from book.cli import main; rc = main(sys.argv[1:]); "
        "heavy = [m for m in HEAVY if m in sys.modules]; "
        "print('HEAVY', heavy, file=sys.stderr); sys.exit(rc)"
    )
    args = ["build", "--config", str(book / "book.yaml"), "--out", str(out), "--no-check", *extra]
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=book, env=env)


def test_no_change_rebuild_does_nothing_and_imports_nothing_heavy(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = build_cli(book, out, "--format", "epub")
    assert first.returncode == 0, first.stderr
    epub = out / "test.epub" if (out / "test.epub").exists() else next(out.glob("*.epub"))
    stamp = epub.stat().st_mtime_ns
    second = build_cli(book, out, "--format", "epub")
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stderr
    assert "HEAVY []" in second.stderr
    assert epub.stat().st_mtime_ns == stamp


def test_a_modified_output_is_rebuilt_from_the_cache(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build_cli(book, out, "--format", "epub").returncode == 0
    epub = next(out.glob("*.epub"))
    good = epub.read_bytes()
    epub.write_bytes(b"damaged")
    again = build_cli(book, out, "--format", "epub")
    assert again.returncode == 0, again.stderr
    assert "up to date" not in again.stderr
    assert epub.read_bytes() == good


def test_outputs_identical_with_and_without_cache(book: Path, tmp_path: Path) -> None:
    cached, uncached = tmp_path / "cached", tmp_path / "uncached"
    for _ in range(2):  # the second cached build is served from the cache
        r = build_cli(book, cached, "--format", "epub")
        assert r.returncode == 0, r.stderr
        (cached / ".cache" / "builds").exists() and shutil.rmtree(cached / ".cache" / "builds")
    r = build_cli(book, uncached, "--format", "epub", "--no-cache")
    assert r.returncode == 0, r.stderr
    assert not (uncached / ".cache" / "part").exists()
    names = sorted(p.name for p in cached.iterdir() if p.is_file())
    assert names == sorted(p.name for p in uncached.iterdir() if p.is_file())
    for name in names:
        assert (cached / name).read_bytes() == (uncached / name).read_bytes(), name


def test_a_cached_pdf_restores_its_page_count(book_dir: Path, tmp_path: Path) -> None:
    write_chapter(book_dir, "01.md", CH.format(n=1, extra=""))
    out = tmp_path / "out"
    first = build_cli(book_dir, out, "--format", "pdf")
    assert first.returncode == 0, first.stderr
    pdf = next(out.glob("*.pdf"))
    good = pdf.read_bytes()
    pdf.unlink()
    second = build_cli(book_dir, out, "--format", "pdf")
    assert second.returncode == 0, second.stderr
    assert "HEAVY" in second.stderr and "weasyprint" not in second.stderr.split("HEAVY")[1]
    pages = [line for line in first.stderr.splitlines() if line.startswith("wrote")]
    assert pages and pages == [line for line in second.stderr.splitlines() if line.startswith("wrote")]
    assert pdf.read_bytes() == good


def test_no_change_rebuild_replays_warnings(book_dir: Path, tmp_path: Path) -> None:
    write_chapter(book_dir, "01.md", CH.format(n=1, extra="\n\n![图](https://example.com/x.png)\n"))
    out = tmp_path / "out"
    first = build_cli(book_dir, out, "--format", "epub")
    second = build_cli(book_dir, out, "--format", "epub")
    assert "up to date" in second.stderr
    for r in (first, second):
        assert r.stderr.count("remote image not embedded") == 1, r.stderr


def test_an_edited_source_is_not_up_to_date(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build_cli(book, out, "--format", "epub").returncode == 0
    write_chapter(book, "03.md", CH.format(n=3, extra="改了。"))
    again = build_cli(book, out, "--format", "epub")
    assert "up to date" not in again.stderr


def test_progress_is_quiet_without_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from book.engine import progress

    monkeypatch.delenv("BOOK_PROGRESS", raising=False)
    assert isinstance(progress.progress_for(50), progress.Quiet)  # pytest's stderr is no terminal
    monkeypatch.setenv("BOOK_PROGRESS", "0")
    assert isinstance(progress.progress_for(50), progress.Quiet)


def test_forced_progress_draws_per_part(book: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from book.engine import progress

    monkeypatch.setenv("BOOK_PROGRESS", "1")
    assert isinstance(progress.progress_for(1), progress.Bar)
    build, _ = prepare(book, tmp_path / "out", jobs=2)
    assert [p.id for p in build.parts if p.kind == "chapter"] == ["ch01", "ch02", "ch03"]
    assert "parts" in capsys.readouterr().err
    from book.pipeline import write_pdf

    write_pdf(build, tmp_path / "out" / "book.pdf", jobs=2)
    err = capsys.readouterr().err
    assert "PDF: parts laid out" in err and "/4" in err  # the three chapters and the front matter, counted


def test_weasyfast_keeps_emoji_output(tmp_path: Path) -> None:
    import pikepdf
    from weasyprint import HTML

    from book.pdf.weasy import emoji as weasyfast

    html = "<html lang='zh-CN'><body><p>" + "完成 ✅ 提示 💡 " * 40 + "</p></body></html>"

    def render(name: str) -> tuple[int, str]:
        target = tmp_path / name
        HTML(string=html).write_pdf(str(target))
        with pikepdf.open(target) as pdf:
            images = {k for page in pdf.pages for k in page.get_images().keys()}
        text = subprocess.run(["pdftotext", str(target), "-"], capture_output=True, text=True).stdout
        return len(images), text

    before = render("before.pdf")
    assert before[0] >= 2 and "完成" in before[1]
    weasyfast.install()
    weasyfast.install()  # idempotent
    assert render("after.pdf") == before


def test_output_key_sees_extra_stylesheet_content(book: Path, tmp_path: Path) -> None:
    build, _ = prepare(book, tmp_path / "out")
    css = tmp_path / "extra.css"
    css.write_text("p { color: red }", encoding="utf-8")
    k1 = pipeline.output_key(build, "pdf", extra_stylesheets=(css,))
    assert k1 == pipeline.output_key(build, "pdf", extra_stylesheets=(css,))
    css.write_text("p { color: blue }", encoding="utf-8")
    assert pipeline.output_key(build, "pdf", extra_stylesheets=(css,)) != k1
    assert pipeline.output_key(build, "pdf", profile="screen") != pipeline.output_key(build, "pdf", profile="print")


def square_plus(x: int, y: int) -> int:
    """A module-level pure function, for memo_map's worker processes."""
    return x * x + y


def test_memo_map_runs_only_misses_in_order(tmp_path: Path) -> None:
    from concurrent.futures import ProcessPoolExecutor

    from book.engine.cache import Cache
    from book.engine.memo import memo_map

    cache = Cache(tmp_path)
    calls = [(i, 1) for i in range(5)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        assert memo_map(cache, "pdf-part", square_plus, calls, pool) == [1, 2, 5, 10, 17]
    again = Cache(tmp_path)
    changed = calls[:2] + [(7, 1)] + calls[3:]
    told: list[int] = []
    assert memo_map(again, "pdf-part", square_plus, changed, done=told.append) == [1, 2, 50, 10, 17]
    assert [hit for _, _, hit in again.log] == [True, True, False, True, True]
    assert told == [4, 1]  # the progress bar: four from the cache at once, then the one laid out


def test_cached_output_restores_the_result_and_warnings(book: Path, tmp_path: Path) -> None:
    from book.model import PdfResult

    out = tmp_path / "out"
    build, _ = prepare(book, out)
    produced: list[Path] = []
    target = out / "book-screen.pdf"

    def produce(path: Path) -> PdfResult:
        produced.append(path)
        path.write_bytes(b"%PDF-fake")
        build.diag.warn(book / "chapters" / "01.md", 3, "a layout warning")
        return PdfResult(path, 7)

    assert pipeline.cached_output(build, "pdf", target, produce, profile="screen") == PdfResult(target, 7)
    target.unlink()
    again, diag = prepare(book, out)
    result = pipeline.cached_output(again, "pdf", target, produce, profile="screen")
    assert produced == [target]  # served from the cache the second time
    assert result.path.read_bytes() == b"%PDF-fake" and result.page_count == 7
    assert [w.message for w in diag.warnings] == ["a layout warning"]


def test_epub_prewarm_fills_the_cache_the_epub_then_uses(book: Path, tmp_path: Path) -> None:
    from book.epub import package as epub

    build, _ = prepare(book, tmp_path / "out")
    epub.prewarm(build)  # what runs while the PDF workers lay the parts out
    warmed = [key for stage, key, hit in build.cache.log if stage in ("fonts", "cover") and not hit]
    assert warmed
    build.cache.log.clear()
    pipeline.write_epub(build, tmp_path / "book.epub")
    used = [(stage, hit) for stage, _key, hit in build.cache.log if stage in ("fonts", "cover")]
    assert used and all(hit for _, hit in used), used
