"""Print PDF: page geometry, profiles, furniture, TOC against outline, reproducibility (real builds)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest

from book.check.pdf import check_pdf_fonts, check_pdf_print, device_rgb_uses
from book.errors import BookError
from book.pdf import document as pdf
from book.pdf import finish, furniture, layout
from book.source.config import load_config

MM = 72 / 25.4
BOOK_TITLE = "印刷测试之书"
SENTENCE = "这是一段用于排版测试的中文正文，它足够长，可以换行并且占据多行的版面空间。"


def make_book(root: Path, chapters: int = 3, *, draft: int | None = 2, extra_yaml: str = "") -> Path:
    """A small book in the sample's conventions: `chapters` chapters of different lengths, an appendix."""
    (root / "chapters").mkdir(parents=True, exist_ok=True)
    (root / "book.yaml").write_text(
        f"title: {BOOK_TITLE}\nauthors: [作者]\ndate: 2025-01-01\nidentifier: urn:uuid:0000-test\n"
        "slug: printtest\nchapters:\n  - chapters/*.md\nappendices:\n  - appendix.md\n" + extra_yaml,
        encoding="utf-8",
    )
    for n in range(1, chapters + 1):
        status = "draft" if n == draft else "final"
        sections = []
        for s in range(1, 3 + n % 3):
            paras = "\n\n".join(SENTENCE * (3 + (n + s) % 4) for _ in range(3 + n))
            sections.append(f"## 第{s}节 测试小节{n}.{s}\n\n{paras}\n")
        (root / "chapters" / f"{n:02d}.md").write_text(
            f'---\nchapter_number: {n}\ntitle: "测试章节{n}"\ntitle_en: "Test {n}"\nperiod: "2025"\n'
            f"technical_concepts: [test]\nstatus: {status}\nlast_updated: 2025-0{n % 9 + 1}-01\n---\n"
            f"# 第{n}章：测试章节{n}\n\n" + "\n".join(sections),
            encoding="utf-8",
        )
    (root / "appendix.md").write_text(
        '---\ntitle: "附录文章"\nauthor: 记者\ndate: 2025-01-02\n---\n'
        + "\n\n".join(SENTENCE * 4 for _ in range(6))
        + "\n",
        encoding="utf-8",
    )
    return root / "book.yaml"


def build(config: Path, out: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "book", "build", "--format", "pdf", "--config", str(config), "--out", str(out), *extra],
        capture_output=True, text=True, env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc


def page_texts(path: Path, mode: str = "-layout") -> list[str]:
    text = subprocess.run(["pdftotext", mode, str(path), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


def outline_entries(path: Path) -> list[tuple[str, int, int]]:
    """(title, page index, level) of every outline item, in order."""
    found = []
    with pikepdf.open(path) as doc:
        index = {page.objgen: i for i, page in enumerate(doc.pages)}
        with doc.open_outline() as outline:

            def walk(items, level: int) -> None:
                for item in items:
                    dest = item.destination
                    found.append((item.title, index[dest[0].objgen], level))
                    walk(item.children, level + 1)

            walk(outline.root, 1)
    return found


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("printbook")
    config = make_book(root)
    out = root / "build"
    build(config, out)
    build(config, out, "--profile", "screen")
    build(config, out, "--profile", "review")
    return {"config": config, "out": out, "pdf": out / "printtest.pdf", "root": root}


# --- units ---------------------------------------------------------------------------------------


def test_trim_sizes_by_name_and_millimetres(tmp_path: Path) -> None:
    from book.options import trim_size

    assert trim_size("A5") == (148, 210)
    assert trim_size("16开") == (185, 260)
    assert trim_size("大32开") == (140, 203)
    assert trim_size("150x220") == (150, 220)
    assert trim_size([150, 220]) == (150, 220)
    assert trim_size("huge") is None
    root = tmp_path / "huge"
    config = make_book(root, 1)
    config.write_text(config.read_text(encoding="utf-8") + "print:\n  trim: huge\n", encoding="utf-8")
    with pytest.raises(BookError, match="trim size"):
        load_config(config)


def test_type_area_is_whole_characters_with_gutter(tmp_path: Path) -> None:
    yaml = "print:\n  trim: 大32开\n  font_size: 10\n  chars_per_line: 28\n  gutter: 6\n"
    config = load_config(make_book(tmp_path, 1, extra_yaml=yaml))
    geo = furniture.geometry(config)
    assert geo.type_width == 280
    assert geo.inner + geo.outer + geo.type_width == pytest.approx(140 * MM)
    assert geo.inner - geo.outer == pytest.approx(6 * MM)
    assert geo.bleed_mm == 3 and not geo.marks
    assert furniture.geometry(config, "screen").bleed_mm == 0


def test_crop_marks_only_on_request(tmp_path: Path) -> None:
    plain = load_config(make_book(tmp_path / "a", 1))
    marked = load_config(make_book(tmp_path / "b", 1, extra_yaml="print:\n  marks: true\n"))
    assert "marks: none" in furniture.page_css(plain, furniture.geometry(plain))
    assert "marks: crop" in furniture.page_css(marked, furniture.geometry(marked))
    assert "marks: none" in furniture.page_css(marked, furniture.geometry(marked, "screen"))


def test_too_many_characters_is_a_user_error(tmp_path: Path) -> None:
    config = load_config(make_book(tmp_path, 1, extra_yaml="print:\n  chars_per_line: 60\n"))
    with pytest.raises(BookError, match="do not fit"):
        furniture.geometry(config)


def test_css_colours_become_device_cmyk_with_k_only_greys() -> None:
    css = pdf.cmyk_css("a { color: #555; border-top: 1pt solid #000; background: rgb(255, 0, 0); } b { color: black }")
    assert "#" not in css and "rgb(" not in css
    assert "device-cmyk(0 0 0 0.667)" in css and "device-cmyk(0 0 0 1.000)" in css
    assert "device-cmyk(0.000 1.000 1.000 0.000)" in css


def test_running_head_is_the_short_title() -> None:
    assert furniture.running_head("第八章", "Meta的开源革命：LLaMA引爆AI民主化") == "第八章 Meta的开源革命"
    assert furniture.running_head("附录A", "开源启动！18个月") == "附录A 开源启动"
    assert furniture.running_head("第一章", "测试章节1") == "第一章 测试章节1"


def test_folio_labels_roman_then_arabic() -> None:
    assert layout.folio_labels(4, 7) == ["i", "ii", "iii", "iv", "1", "2", "3"]
    assert layout.roman(14) == "xiv"


# --- the print file ------------------------------------------------------------------------------


def test_a5_boxes_with_3mm_bleed(small: dict) -> None:
    w, h, bleed = 148 * MM, 210 * MM, 3 * MM
    with pikepdf.open(small["pdf"]) as doc:
        for page in doc.pages:
            media = [float(v) for v in page.obj.MediaBox]
            trim = [float(v) for v in page.obj.TrimBox]
            bleed_box = [float(v) for v in page.obj.BleedBox]
            assert media == pytest.approx([-bleed, -bleed, w + bleed, h + bleed], abs=0.01)
            assert trim == pytest.approx([0, 0, w, h], abs=0.01)
            assert bleed_box == pytest.approx(media, abs=0.01)


def test_pdfx4_with_cmyk_output_intent_and_no_rgb(small: dict) -> None:
    result = check_pdf_print(small["pdf"])
    assert result.ok, result.details
    with pikepdf.open(small["pdf"]) as doc:
        intent = doc.Root.OutputIntents[0]
        assert intent.S == "/GTS_PDFX" and int(intent.DestOutputProfile.N) == 4
        assert b"PDF/X-4" in doc.Root.Metadata.read_bytes()
    assert device_rgb_uses(small["pdf"]) == []


def test_fonts_embedded_no_type3(small: dict) -> None:
    result = check_pdf_fonts(small["pdf"])
    assert result.ok, result.details


def test_chapters_start_on_recto_with_odd_arabic_folio(small: dict) -> None:
    texts = page_texts(small["pdf"])
    with pikepdf.open(small["pdf"]) as doc:
        labels = doc.Root.PageLabels.Nums
        front = int(labels[2])
    tops = [(t, i) for t, i, level in outline_entries(small["pdf"]) if level == 1]
    assert len(tops) == 4  # 3 chapters and the appendix
    for title, index, _ in [(t, i, 1) for t, i in tops]:
        assert index % 2 == 0, f"{title} starts on a verso (page {index + 1})"
        assert (index - front + 1) % 2 == 1
        assert title.split()[-1] in texts[index]
    # The page before every later part is either text or an empty blank verso.
    for _, index in tops[1:]:
        before = texts[index - 1]
        assert before.strip() == "" or len(before.strip()) > 20


def test_toc_numbers_equal_outline_destinations(small: dict) -> None:
    texts = page_texts(small["pdf"])
    with pikepdf.open(small["pdf"]) as doc:
        front = int(doc.Root.PageLabels.Nums[2])
    toc_page = next(t for t in texts if "目录" in re.sub(r"\s+", "", t))
    toc = {}
    for line in toc_page.splitlines():
        m = re.match(r"\s*(.+?)\s*\.{3,}\s*(\d+)\s*$", line)
        if m:
            toc[re.sub(r"\s+", "", m.group(1))] = int(m.group(2))
    entries = outline_entries(small["pdf"])
    checked = 0
    for title, index, _ in entries:
        key = re.sub(r"\s+", "", title)
        match = next((n for k, n in toc.items() if key.endswith(k) or k.endswith(key)), None)
        if match is not None:
            assert match == index - front + 1, title
            checked += 1
    assert checked >= 8, (toc, entries)


def test_running_heads_and_folios(small: dict) -> None:
    texts = page_texts(small["pdf"])
    with pikepdf.open(small["pdf"]) as doc:
        front = int(doc.Root.PageLabels.Nums[2])
    openers = {i for _, i, level in outline_entries(small["pdf"]) if level == 1}
    body_pages = 0
    for i in range(front, len(texts)):
        lines = [line.strip() for line in texts[i].splitlines() if line.strip()]
        folio = str(i - front + 1)
        if not lines:
            continue  # a blank verso carries nothing
        assert lines[-1] == folio, f"page {i + 1}: folio {folio} missing"
        if i in openers:
            assert BOOK_TITLE not in lines[0] and not re.match(r"(第.章|附录A) ", lines[0]), lines[0]
        elif i % 2 == 1:  # verso
            assert lines[0] == BOOK_TITLE, lines[0]
            body_pages += 1
        else:
            assert re.match(r"(第.章|附录A) ", lines[0]), lines[0]
            body_pages += 1
    assert body_pages >= 4
    for i in range(1, front):  # front matter: roman folios, no heads
        lines = [line.strip() for line in texts[i].splitlines() if line.strip()]
        if lines and i != 1:  # the copyright page (版权页, page ii) carries no folio
            assert lines[-1] == layout.roman(i + 1)


def test_blank_pages_are_empty(small: dict) -> None:
    texts = page_texts(small["pdf"])
    assert any(not t.strip() for t in texts), "the test book should produce at least one blank verso"


def test_page_map_points_at_blocks_that_exist(small: dict) -> None:
    from book.errors import Diagnostics
    from book.pdf.single import write_one_document as write_pdf
    from book.pipeline import prepare

    b = prepare(small["config"], small["root"] / "pm", Diagnostics())
    marks = write_pdf(b, small["root"] / "pm" / "one.pdf").page_map
    body = "".join(p.body for p in b.parts)
    assert marks and marks[0].label == "1" and marks[0].part_id == "ch01"
    for mark in marks:
        assert f'id="{mark.target_id}"' in body
    assert len({m.label for m in marks}) == len(marks)


def test_rebuilds_are_byte_identical(small: dict, tmp_path: Path) -> None:
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    build(small["config"], tmp_path / "a", env=env)
    build(small["config"], tmp_path / "b", env=env)
    a, b = (tmp_path / d / "printtest.pdf" for d in ("a", "b"))
    assert a.read_bytes() == b.read_bytes()
    with pikepdf.open(a) as doc:
        assert str(doc.docinfo["/CreationDate"]).startswith("D:20231114")
        assert b"2023-11-14T22:13:20" in doc.Root.Metadata.read_bytes()


def test_default_epoch_is_newest_last_updated(small: dict) -> None:
    with pikepdf.open(small["pdf"]) as doc:
        assert str(doc.docinfo["/ModDate"]).startswith("D:20250401")  # chapter 3: 2025-04-01


# --- screen and review ---------------------------------------------------------------------------


def test_screen_profile_tagged_no_bleed_live_links(small: dict) -> None:
    path = small["out"] / "printtest-screen.pdf"
    with pikepdf.open(path) as doc:
        assert doc.Root.MarkInfo.Marked and "/StructTreeRoot" in doc.Root
        assert b"pdfuaid" in doc.Root.Metadata.read_bytes()
        for page in doc.pages:
            assert [float(v) for v in page.obj.MediaBox] == [float(v) for v in page.obj.TrimBox]
        links = [a for page in doc.pages for a in page.obj.get("/Annots", []) if a.Subtype == "/Link"]
        assert len(links) >= 8  # the TOC entries at least


def test_review_watermark_on_draft_parts_only(small: dict) -> None:
    texts = page_texts(small["out"] / "printtest-review.pdf", "-raw")  # the mark is rotated
    entries = [(t, i) for t, i, level in outline_entries(small["out"] / "printtest-review.pdf") if level == 1]
    (ch2_start,) = [i for t, i in entries if "测试章节2" in re.sub(r"\s+", "", t)]
    ch3_start = next(i for t, i in entries if "测试章节3" in re.sub(r"\s+", "", t))
    for i, text in enumerate(texts):
        draft = ch2_start <= i < ch3_start and text.strip()
        assert ("草稿" in text.replace("\n", "")) == bool(draft), f"page {i + 1}"
    assert not any("草稿" in t for t in page_texts(small["pdf"]))


def test_images_under_300_dpi_are_reported(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (150, 100), (200, 30, 30)).save(tmp_path / "low.png")
    Image.new("RGB", (1500, 1000), (200, 30, 30)).save(tmp_path / "high.png")
    html = '<img src="low.png" style="width: 1in"/><img src="high.png" style="width: 1in"/>'
    doc, _ = layout.render_document(html, [], str(tmp_path) + "/")
    found = layout.low_resolution_images(doc)
    assert len(found) == 1 and "low.png" in found[0] and "150 dpi" in found[0]


def test_rgb_images_are_converted_to_cmyk(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (40, 40), (200, 30, 30)).save(tmp_path / "red.png")
    doc, _ = layout.render_document('<img src="red.png"/>', [], str(tmp_path) + "/")
    target = tmp_path / "x.pdf"
    target.write_bytes(doc.write_pdf())
    assert device_rgb_uses(target)
    with pikepdf.open(target, allow_overwriting_input=True) as d:
        assert finish.cmyk_images(d) == 1
        d.save(target)
    assert device_rgb_uses(target) == []


def test_page_marks_name_blocks_that_start_on_the_page() -> None:
    anchors = [["ch01", "ch01-title", "ch01-s1", "ch01-p1"], ["ch01-s1", "ch01-p1", "ch01-p2"], ["ch01-p2"], []]
    marks = layout.page_marks_from_anchors(anchors, ["ch01"], ["1", "2", "3", "4"], ["ch01", "ch01", "ch01", ""])
    assert [(m.label, m.target_id) for m in marks] == [("1", "ch01"), ("2", "ch01-p2"), ("3", "ch01-p2")]
