"""Parallel PDF: parts rendered in worker processes and assembled must equal the one-document render."""

from __future__ import annotations

import re
from pathlib import Path

import pikepdf
import pytest

from book.check.pdf import check_pdf_print
from book.errors import Diagnostics
from book.pdf import document as pdf
from book.pdf import parallel as assemble
from book.pdf import single
from book.pipeline import prepare
from tests.test_print_pdf import BOOK_TITLE, build, make_book, outline_entries, page_texts


@pytest.fixture(scope="module")
def five(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("fivebook")
    config = make_book(root, 5)
    build(config, root / "serial", "--pdf-jobs", "1")
    build(config, root / "parallel", "--pdf-jobs", "2")
    return {
        "root": root,
        "config": config,
        "serial": root / "serial" / "printtest.pdf",
        "parallel": root / "parallel" / "printtest.pdf",
    }


def test_same_pages_and_text_as_one_document(five: dict) -> None:
    serial, parallel = page_texts(five["serial"]), page_texts(five["parallel"])
    assert len(serial) == len(parallel) > 20
    for i, (a, b) in enumerate(zip(serial, parallel, strict=True)):
        assert re.sub(r"\s+", " ", a).strip() == re.sub(r"\s+", " ", b).strip(), f"page {i + 1} differs"


def test_folios_heads_and_recto_starts(five: dict) -> None:
    texts = page_texts(five["parallel"])
    with pikepdf.open(five["parallel"]) as doc:
        front = int(doc.Root.PageLabels.Nums[2])
    tops = [(t, i) for t, i, level in outline_entries(five["parallel"]) if level == 1]
    assert len(tops) == 6
    for title, index in tops:
        assert index % 2 == 0 and (index - front + 1) % 2 == 1, title
    openers = {i for _, i in tops}
    for i in range(front, len(texts)):
        lines = [line.strip() for line in texts[i].splitlines() if line.strip()]
        if not lines:
            continue
        assert lines[-1] == str(i - front + 1)
        if i not in openers:
            assert (lines[0] == BOOK_TITLE) if i % 2 else re.match(r"(第.章|附录A) ", lines[0]), (i, lines[0])


def test_outline_and_toc_numbers(five: dict) -> None:
    assert outline_entries(five["parallel"]) == outline_entries(five["serial"])
    texts = page_texts(five["parallel"])
    with pikepdf.open(five["parallel"]) as doc:
        front = int(doc.Root.PageLabels.Nums[2])
    toc = {}
    for line in next(t for t in texts if "目录" in re.sub(r"\s+", "", t)).splitlines():
        m = re.match(r"\s*(.+?)\s*\.{3,}\s*(\d+)\s*$", line)
        if m:
            toc[re.sub(r"\s+", "", m.group(1))] = int(m.group(2))
    checked = 0
    for title, index, _ in outline_entries(five["parallel"]):
        key = re.sub(r"\s+", "", title)
        match = next((n for k, n in toc.items() if key.endswith(k) or k.endswith(key)), None)
        if match is not None:
            assert match == index - front + 1, title
            checked += 1
    assert checked >= 15


def test_links_resolve_across_parts(five: dict) -> None:
    with pikepdf.open(five["parallel"]) as doc:
        dests = pikepdf.NameTree(doc.Root.Names.Dests)
        pages = {p.objgen for p in doc.pages}
        links = [a for p in doc.pages for a in p.obj.get("/Annots", []) if a.Subtype == "/Link" and "/Dest" in a]
        assert len(links) >= 15  # the TOC's entries
        for link in links:
            target = dests[str(link.Dest)]
            assert target[0].objgen in pages
        assert "ch05" in dests and "appa" in dests


def test_pdfx_valid_after_assembly(five: dict) -> None:
    result = check_pdf_print(five["parallel"])
    assert result.ok, result.details
    with pikepdf.open(five["parallel"]) as doc:
        profiles = {o.objgen for o in doc.objects if isinstance(o, pikepdf.Stream) and o.get("/N") == 4}
        assert len(profiles) == 1  # one ICC profile shared by every part


def test_parallel_rebuild_is_byte_identical(five: dict, tmp_path: Path) -> None:
    build(five["config"], tmp_path, "--pdf-jobs", "2")
    assert (tmp_path / "printtest.pdf").read_bytes() == five["parallel"].read_bytes()


def test_page_map_matches_one_document(five: dict, tmp_path: Path) -> None:
    b = prepare(five["config"], tmp_path / "a", Diagnostics())
    parallel = assemble.write_pdf_parallel(b, tmp_path / "a.pdf", workers=2)
    c = prepare(five["config"], tmp_path / "b", Diagnostics())
    one = single.write_one_document(c, tmp_path / "b.pdf")
    assert parallel.page_map == one.page_map and parallel.page_map
    assert parallel.page_count == one.page_count


def test_worker_is_a_pure_function_of_its_inputs(five: dict) -> None:
    b = prepare(five["config"], five["root"] / "w", Diagnostics())
    css = pdf.stylesheet_texts(b, "print", furniture_boxes=False)
    html = pdf.print_document(b, [b.parts[3]])
    opts = {**pdf.render_options("print"), "source_date_epoch": 1700000000}
    one = assemble.render_part_pdf(html, css, str(b.config.root) + "/", opts)
    two = assemble.render_part_pdf(html, css, str(b.config.root) + "/", opts)
    assert one.pdf == two.pdf and one.anchors == two.anchors and one.page_count >= 1


def test_review_profile_in_parallel_matches(five: dict, tmp_path: Path) -> None:
    build(five["config"], tmp_path / "s", "--profile", "review", "--pdf-jobs", "1")
    build(five["config"], tmp_path / "p", "--profile", "review", "--pdf-jobs", "2")
    serial = page_texts(tmp_path / "s" / "printtest-review.pdf", "-raw")
    parallel = page_texts(tmp_path / "p" / "printtest-review.pdf", "-raw")
    assert [("草稿" in t.replace("\n", "")) for t in serial] == [("草稿" in t.replace("\n", "")) for t in parallel]
    assert sum("草稿" in t.replace("\n", "") for t in parallel) >= 2


def test_fonts_are_subset_once_for_the_whole_book(five: dict) -> None:
    with pikepdf.open(five["parallel"]) as doc:
        fonts: dict[str, set] = {}
        programs: dict[str, set] = {}
        for obj in doc.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/Font" and obj.get("/Subtype") == "/Type0":
                name = str(obj.BaseFont)
                fonts.setdefault(name, set()).add(obj.objgen)
                desc = obj.DescendantFonts[0].FontDescriptor
                for key in ("/FontFile2", "/FontFile3"):
                    if key in desc:
                        programs.setdefault(name, set()).add(desc[key].objgen)
        serif = [n for n in fonts if n.endswith("+Noto-Serif-CJK-SC")]
        assert len(serif) == 1
        # One font dictionary and one program per font (colour emoji are WeasyPrint's own business).
        for name in fonts:
            if "Emoji" not in name:
                assert len(fonts[name]) == 1, name
                assert len(programs[name]) == 1, name
    serial_size, parallel_size = five["serial"].stat().st_size, five["parallel"].stat().st_size
    assert parallel_size < 1.4 * serial_size, (serial_size, parallel_size)


def test_every_glyph_of_every_part_is_in_the_merged_font(five: dict) -> None:
    import io
    import unicodedata

    from fontTools.ttLib import TTFont

    from book.pdf import subset

    with pikepdf.open(five["parallel"]) as doc:
        for obj in doc.objects:
            if not (isinstance(obj, pikepdf.Dictionary) and obj.get("/Subtype") == "/Type0"):
                continue
            if "Emoji" in str(obj.BaseFont):
                continue
            desc = obj.DescendantFonts[0]
            used = set(subset.widths(desc.W))
            program = desc.FontDescriptor.get("/FontFile3") or desc.FontDescriptor.get("/FontFile2")
            font = TTFont(io.BytesIO(program.read_bytes()))
            order = font.getGlyphOrder()
            assert max(used) < len(order)
            uni = subset.to_unicode(obj.ToUnicode.read_bytes())

            def blank(g: int, uni: dict = uni) -> bool:  # spaces and zero-width marks have no outline
                text = bytes.fromhex(uni.get(g, b"").decode()).decode("utf-16-be")
                return bool(text) and all(unicodedata.category(c) in ("Zs", "Cf") for c in text)

            if "CFF " in font:
                strings = font["CFF "].cff.topDictIndex[0].CharStrings
                empty = [g for g in used if g and len(strings[order[g]].bytecode or b"") <= 1 and not blank(g)]
            else:
                glyf = font["glyf"]
                empty = [g for g in used if g and glyf[order[g]].numberOfContours == 0 and not blank(g)]
            assert not empty, (str(obj.BaseFont), empty[:10])


def test_an_edited_chapter_is_the_only_part_laid_out_again(tmp_path: Path) -> None:
    import shutil

    from book.pipeline import write_pdf

    root = tmp_path / "book"
    config = make_book(root, 4)
    out = tmp_path / "out"
    first = prepare(config, out, Diagnostics())
    first_pdf = write_pdf(first, jobs=2)
    chapter = root / "chapters" / "02.md"
    chapter.write_text(chapter.read_text(encoding="utf-8").replace("测试小节2.1", "改过的小节2.1"), encoding="utf-8")
    again = prepare(config, out, Diagnostics())
    again_pdf = write_pdf(again, jobs=2)
    parts = [hit for stage, _key, hit in again.cache.log if stage == "pdf-part"]
    assert parts.count(False) == 1 and len(parts) == 6  # front matter, 4 chapters, the appendix
    furniture = [hit for stage, _key, hit in again.cache.log if stage == "pdf-furniture"]
    # The heading changed, so the table of contents (the first call) is laid out again; with the
    # same page count the folios did not move, so the running heads and folios are not.
    assert furniture[0] is False
    if first_pdf.page_count == again_pdf.page_count:
        assert all(furniture[1:]), furniture
    shutil.rmtree(out)


def test_a_table_of_contents_longer_than_guessed_still_gets_its_folios(tmp_path: Path) -> None:
    root = tmp_path / "longtoc"
    (root / "chapters").mkdir(parents=True)
    (root / "book.yaml").write_text(
        f"title: {BOOK_TITLE}\nauthors: [作者]\ndate: 2025-01-01\nslug: longtoc\nchapters:\n  - chapters/*.md\n",
        encoding="utf-8",
    )
    long_title = "很长的小节标题" * 18  # wraps over several TOC lines
    for n in (1, 2, 3):
        sections = "\n".join(f"## {long_title}{n}.{s}\n\n正文{n}.{s}。\n" for s in range(1, 13))
        (root / "chapters" / f"{n:02d}.md").write_text(
            f'---\nchapter_number: {n}\ntitle: "长目录{n}"\n---\n# 第{n}章：长目录{n}\n\n{sections}', encoding="utf-8"
        )
    build(root / "book.yaml", tmp_path / "s", "--pdf-jobs", "1")
    proc = build(root / "book.yaml", tmp_path / "p", "--pdf-jobs", "2")
    assert "warning" not in proc.stderr.replace("warning: front matter", "")
    serial, parallel = page_texts(tmp_path / "s" / "longtoc.pdf"), page_texts(tmp_path / "p" / "longtoc.pdf")
    with pikepdf.open(tmp_path / "p" / "longtoc.pdf") as doc:
        front = int(doc.Root.PageLabels.Nums[2])
    assert front > 8  # the TOC outgrew the guess (2 + 39 // 12 pages)
    assert len(serial) == len(parallel)
    for i in range(front):
        assert re.sub(r"\s+", " ", serial[i]).strip() == re.sub(r"\s+", " ", parallel[i]).strip(), i
