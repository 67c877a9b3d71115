"""The editor's round trip: a package's DOCX made from the Markdown, edited the way Word records tracked
changes (w:ins / w:del with author and date, a comment), imported back as patches `git apply` takes."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import zipfile
from copy import deepcopy
from pathlib import Path

import docx
import pytest
from lxml import etree

from book.tools.docxread import q
from book.tools.review import BLOCK_PREFIX, unified_diff
from tests.conftest import run_cli

AUTHOR, DATE = "张编辑", "2026-11-30T09:00:00Z"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"

CH1 = """---
chapter_number: 1
title: 开始
---

# 第一章 开始

这是**第一段**，有一个脚注[^1]。
第二行接着写，2023年2月的事情。

## 第一节

- 甲项写在这里
- 乙项写在这里

| 列一 | 列二 |
|---|---|
| 天空 | 大地 |

![一张图](../images/fig.png)

最后一段没有标记，编辑会改这里的词语。

[^1]: 脚注的文字在这里。
"""
CH2 = "# 第二章 其次\n\n第二章的正文，只有一段。\n"


def git(book: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(book), *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from PIL import Image

    root = tmp_path_factory.mktemp("review-book")
    (root / "chapters").mkdir()
    (root / "images").mkdir()
    Image.new("RGB", (60, 40), (180, 20, 20)).save(root / "images" / "fig.png")
    (root / "book.yaml").write_text(
        "title: 审校之书\nauthors: [作者]\ndate: 2025-01-01\nslug: review-book\nchapters:\n  - chapters/*.md\n",
        encoding="utf-8",
    )
    (root / "chapters" / "01-start.md").write_text(CH1, encoding="utf-8")
    (root / "chapters" / "02-next.md").write_text(CH2, encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "manuscript")
    return root


@pytest.fixture(scope="module")
def package(book: Path) -> Path:
    proc = run_cli("editor", "--config", str(book / "book.yaml"), "--out", str(book / "build"), "--no-check", cwd=book)
    assert proc.returncode == 0, proc.stderr
    return Path(proc.stdout.strip().splitlines()[-1])


# --- Word's tracked changes, written with lxml --------------------------------------------------------


def _run(text: str, deleted: bool = False, rpr: etree._Element | None = None) -> etree._Element:
    r = etree.Element(q("r"))
    if rpr is not None:
        r.append(deepcopy(rpr))
    t = etree.SubElement(r, q("delText" if deleted else "t"))
    t.text = text
    t.set(XML_SPACE, "preserve")
    return r


def _wrap(tag: str, run: etree._Element, cid: int) -> etree._Element:
    el = etree.Element(q(tag), {q("id"): str(cid), q("author"): AUTHOR, q("date"): DATE})
    el.append(run)
    return el


def _plain_runs(p: etree._Element) -> list[tuple[etree._Element, etree._Element]]:
    tracked = {q("ins"), q("del")}
    return [(r, r.find(q("t"))) for r in p.iter(q("r"))
            if r.find(q("t")) is not None and not any(a.tag in tracked for a in r.iterancestors())]  # fmt: skip


def track(p: etree._Element, old: str, new: str, cid: int) -> None:
    """Replace `old` (over one run or several) by `new` as Word records it: w:del runs, then a w:ins run."""
    runs = _plain_runs(p)
    full = "".join(t.text or "" for _, t in runs)
    start = full.index(old)
    end, pos, last = start + len(old), 0, None
    for r, t in runs:
        text = t.text or ""
        s, e = pos, pos + len(text)
        pos = e
        if e <= start or s >= end:
            continue
        a, b = max(start, s) - s, min(end, e) - s
        t.text = text[:a]
        t.set(XML_SPACE, "preserve")
        gone = _wrap("del", _run(text[a:b], True, r.find(q("rPr"))), cid)
        r.addnext(gone)
        if text[b:]:
            gone.addnext(_run(text[b:], rpr=r.find(q("rPr"))))
        last = gone
    if new:
        last.addnext(_wrap("ins", _run(new), cid + 1))


def insert_before(p: etree._Element, anchor: str, new: str, cid: int) -> None:
    """A tracked insertion of `new` just before `anchor` (inside one run)."""
    for r, t in _plain_runs(p):
        if anchor in (t.text or ""):
            before, after = t.text.split(anchor, 1)
            t.text = before
            t.set(XML_SPACE, "preserve")
            ins = _wrap("ins", _run(new), cid)
            r.addnext(ins)
            ins.addnext(_run(anchor + after, rpr=r.find(q("rPr"))))
            return
    raise AssertionError(anchor)


def paragraph(root: etree._Element, bookmark: str) -> etree._Element:
    for b in root.iter(q("bookmarkStart")):
        if b.get(q("name")) == bookmark:
            return next(b.iterancestors(q("p")))
    raise AssertionError(bookmark)


def comment(doc: etree._Element, p: etree._Element, text: str, z_in: zipfile.ZipFile) -> bytes:
    """A comment over the whole paragraph `p`; returns the new comments.xml."""
    start = etree.Element(q("commentRangeStart"), {q("id"): "7"})
    end = etree.Element(q("commentRangeEnd"), {q("id"): "7"})
    runs = p.findall(q("r"))
    runs[0].addprevious(start)
    runs[-1].addnext(end)
    ref = etree.Element(q("r"))
    etree.SubElement(ref, q("commentReference"), {q("id"): "7"})
    end.addnext(ref)
    xml = z_in.read("word/comments.xml")
    comments = etree.fromstring(xml)
    c = etree.SubElement(comments, q("comment"), {q("id"): "7", q("author"): AUTHOR, q("date"): DATE})
    etree.SubElement(etree.SubElement(etree.SubElement(c, q("p")), q("r")), q("t")).text = text
    return etree.tostring(comments, xml_declaration=True, encoding="UTF-8", standalone=True)


def bookmark_of(package_zip: Path, text: str) -> str:
    with zipfile.ZipFile(package_zip) as z:
        blocks = json.loads(z.read(f"{package_zip.stem}/review-map.json"))["blocks"]
    return next(b["id"] for b in blocks if b["text"].strip().startswith(text))


@pytest.fixture(scope="module")
def edited(package: Path, book: Path) -> Path:
    """The package's DOCX with four tracked changes and a comment, as Word would save it."""
    with zipfile.ZipFile(package) as z:
        source = z.read(f"{package.stem}/review-book.docx")
    original = book / "build" / "sent.docx"
    original.write_bytes(source)
    target = book / "build" / "returned.docx"
    with zipfile.ZipFile(original) as z_in, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z_out:
        doc = etree.fromstring(z_in.read("word/document.xml"))
        foot = etree.fromstring(z_in.read("word/footnotes.xml"))
        track(paragraph(doc, bookmark_of(package, "最后一段")), "词语", "句子", 10)  # plain text: replaced
        insert_before(paragraph(doc, bookmark_of(package, "这是第一段")), "脚注", "重要的", 20)  # beside **…** and [^1]
        track(paragraph(doc, bookmark_of(package, "甲项")), "写在这里", "", 30)  # a list item, deletion
        track(paragraph(foot, bookmark_of(package, "脚注的文字")), "文字", "说明", 40)  # inside the footnote
        track(paragraph(doc, bookmark_of(package, "这是第一段")), "这是", "此乃", 50)  # the run before **: fine
        # One that crosses the Markdown markup (`**第一段**`): reported for a manual edit, not guessed.
        track(paragraph(doc, bookmark_of(package, "这是第一段")), "段，有", "段有", 60)
        comments = comment(doc, paragraph(doc, bookmark_of(package, "第二章的正文")), "这一段要核实出处。", z_in)
        for item in z_in.infolist():
            if item.filename == "word/document.xml":
                z_out.writestr(item, etree.tostring(doc, xml_declaration=True, encoding="UTF-8", standalone=True))
            elif item.filename == "word/footnotes.xml":
                z_out.writestr(item, etree.tostring(foot, xml_declaration=True, encoding="UTF-8", standalone=True))
            elif item.filename == "word/comments.xml":
                z_out.writestr(item, comments)
            else:
                z_out.writestr(item, z_in.read(item.filename))
    return target


# --- the tests ------------------------------------------------------------------------------------


def test_package_holds_the_map_and_the_sources_hashes(package: Path) -> None:
    assert package.name == f"review-book-{dt.datetime.now(dt.UTC).date().isoformat()}.zip"
    with zipfile.ZipFile(package) as z:
        names = set(z.namelist())
        made = json.loads(z.read(f"{package.stem}/manifest.json"))
    assert {f"{package.stem}/{n}" for n in ("review-map.json", "manifest.json", "review-book.docx")} <= names
    assert set(made["sources"]) == {"chapters/01-start.md", "chapters/02-next.md"}
    assert made["package"] == package.stem


def test_docx_is_the_authors_text_with_word_structures(package: Path, book: Path) -> None:
    with zipfile.ZipFile(package) as z:
        data = z.read(f"{package.stem}/review-book.docx")
    path = book / "build" / "look.docx"
    path.write_bytes(data)
    d = docx.Document(str(path))
    styles = [(p.style.name, p.text) for p in d.paragraphs]
    assert ("Heading 1", "第一章 开始") in styles and ("Heading 2", "第一节") in styles
    assert ("Heading 1", "第二章 其次") in styles
    body = "\n".join(t for _, t in styles)
    # The author's text: no spaces the typography stage adds, no word joiners, no footnote in the body.
    assert "2023年2月" in body and "\u2060" not in body and "脚注的文字" not in body
    assert len(d.inline_shapes) == 1  # the image, embedded
    with zipfile.ZipFile(path) as z:
        assert "脚注的文字在这里" in z.read("word/footnotes.xml").decode()
        assert any(n.startswith("word/media/") for n in z.namelist())
        fonts = z.read("word/styles.xml").decode()
    assert 'w:eastAsia="宋体"' in fonts and 'w:eastAsia="黑体"' in fonts
    assert len(d.tables) >= 1 and d.tables[0].cell(1, 0).text == "天空"


def test_cells_headings_whole_items_and_an_ending_come_back_too(package: Path, book: Path) -> None:
    with zipfile.ZipFile(package) as z:
        source = z.read(f"{package.stem}/review-book.docx")
    sent, target = book / "build" / "sent2.docx", book / "build" / "returned2.docx"
    sent.write_bytes(source)
    with zipfile.ZipFile(sent) as z_in, zipfile.ZipFile(target, "w") as z_out:
        doc = etree.fromstring(z_in.read("word/document.xml"))
        track(paragraph(doc, bookmark_of(package, "大地")), "大地", "海洋", 10)  # a table cell
        track(paragraph(doc, bookmark_of(package, "第一节")), "第一节", "第一小节", 20)  # a heading
        track(paragraph(doc, bookmark_of(package, "乙项")), "乙项写在这里", "", 30)  # a whole list item
        runs = _plain_runs(paragraph(doc, bookmark_of(package, "第二章的正文")))
        runs[-1][0].addnext(_wrap("ins", _run("补一句。"), 40))  # typed at the paragraph's end
        for item in z_in.infolist():
            data = z_in.read(item.filename)
            if item.filename == "word/document.xml":
                data = etree.tostring(doc, xml_declaration=True, encoding="UTF-8", standalone=True)
            z_out.writestr(item, data)
    proc = run_cli("review", "import", str(target), "--config", str(book / "book.yaml"), "--out",
                   str(book / "build"), cwd=book)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "4 tracked changes" in proc.stderr and "4 in the patches" in proc.stderr
    patches = sorted(Path(line) for line in proc.stdout.split() if line.endswith(".patch"))
    assert [p.name for p in patches] == ["chapters__01-start.md.patch", "chapters__02-next.md.patch"]
    for patch in patches:
        assert git(book, "apply", "--check", str(patch)).returncode == 0
    one = patches[0].read_text(encoding="utf-8")
    assert "-## 第一节\n+## 第一小节\n" in one and "-- 乙项写在这里\n" in one and "+| 天空 | 海洋 |\n" in one
    assert "+第二章的正文，只有一段。补一句。\n" in patches[1].read_text(encoding="utf-8")


def test_import_writes_a_patch_git_applies_changing_exactly_those_words(edited: Path, book: Path) -> None:
    proc = run_cli("review", "import", str(edited), "--config", str(book / "book.yaml"), "--out",
                   str(book / "build"), cwd=book)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "6 tracked changes" in proc.stderr and "5 in the patches, 1 for a manual edit" in proc.stderr
    patches = [Path(line) for line in proc.stdout.split() if line.endswith(".patch")]
    assert [p.name for p in patches] == ["chapters__01-start.md.patch"]
    check = git(book, "apply", "--check", str(patches[0]))
    assert check.returncode == 0, check.stderr
    removed = [
        ln[1:]
        for ln in patches[0].read_text(encoding="utf-8").splitlines()
        if ln.startswith("-") and not ln.startswith("---")
    ]
    added = [
        ln[1:]
        for ln in patches[0].read_text(encoding="utf-8").splitlines()
        if ln.startswith("+") and not ln.startswith("+++")
    ]
    assert removed == [
        "这是**第一段**，有一个脚注[^1]。",
        "- 甲项写在这里",
        "最后一段没有标记，编辑会改这里的词语。",
        "[^1]: 脚注的文字在这里。",
    ]
    assert added == [
        "此乃**第一段**，有一个重要的脚注[^1]。",
        "- 甲项",
        "最后一段没有标记，编辑会改这里的句子。",
        "[^1]: 脚注的说明在这里。",
    ]
    report = (book / "build" / "review" / "returned" / "report.md").read_text(encoding="utf-8")
    assert f"| chapters/01-start.md:22 | replacement “词语” → “句子” | {AUTHOR} | {DATE} | in the patch |" in report
    assert "chapters/01-start.md:8 | replacement “段，有” → “段有”" in report and "crosses Markdown markup" in report
    assert (
        f"- [ ] chapters/02-next.md:3: 这一段要核实出处。 — {AUTHOR}, {DATE} — on “第二章的正文，只有一段。”" in report
    )

    # --apply writes what the patch says; a second --apply finds the source changed and refuses.
    before = (book / "chapters" / "01-start.md").read_text(encoding="utf-8")
    proc = run_cli("review", "import", str(edited), "--apply", "--config", str(book / "book.yaml"), "--out",
                   str(book / "build"), cwd=book)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    after = (book / "chapters" / "01-start.md").read_text(encoding="utf-8")
    git(book, "stash", "-q")
    assert git(book, "apply", str(patches[0])).returncode == 0
    assert (book / "chapters" / "01-start.md").read_text(encoding="utf-8") == after != before
    proc = run_cli("review", "import", str(edited), "--apply", "--config", str(book / "book.yaml"), "--out",
                   str(book / "build"), cwd=book)  # fmt: skip
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("chapters/01-start.md: error: changed since the package") and "Traceback" not in proc.stderr
    assert (book / "chapters" / "01-start.md").read_text(encoding="utf-8") == after


def test_a_second_package_the_same_day_is_not_overwritten(package: Path, book: Path, edited: Path) -> None:
    proc = run_cli("editor", "--config", str(book / "book.yaml"), "--out", str(book / "build"), "--no-check", cwd=book)
    assert proc.returncode == 0, proc.stderr
    second = Path(proc.stdout.strip().splitlines()[-1])
    assert second.name == package.name.replace(".zip", "-2.zip") and package.is_file()


def test_block_prefix_and_diff_without_final_newline(tmp_path: Path) -> None:
    assert BLOCK_PREFIX.fullmatch("- ") and BLOCK_PREFIX.fullmatch("## ") and not BLOCK_PREFIX.fullmatch("**")
    (tmp_path / "a.md").write_text("甲\n乙", encoding="utf-8")
    patch = tmp_path / "p.patch"
    patch.write_text(unified_diff("a.md", "甲\n乙", "甲\n丙"), encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert subprocess.run(["git", "-C", str(tmp_path), "apply", "p.patch"], capture_output=True).returncode == 0
    assert (tmp_path / "a.md").read_text(encoding="utf-8") == "甲\n丙"
    shutil.rmtree(tmp_path / ".git")


def test_tracked_runs_and_a_paragraph_break_are_read_as_word_writes_them() -> None:
    from book.tools.docxread import read_paragraph

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    p = etree.fromstring(
        f'<w:p {w}><w:pPr><w:rPr><w:ins w:id="1" w:author="甲" w:date="d"/></w:rPr></w:pPr>'
        '<w:bookmarkStart w:id="0" w:name="src_ch01_3"/><w:r><w:t>一</w:t></w:r><w:proofErr w:type="spellStart"/>'
        '<w:del w:id="2" w:author="甲" w:date="d"><w:r><w:delText>二</w:delText></w:r></w:del>'
        '<w:ins w:id="3" w:author="甲" w:date="d"><w:r><w:t>贰</w:t></w:r></w:ins><w:r><w:t></w:t></w:r>'
        "<w:r><w:t>三</w:t></w:r></w:p>"
    )
    para = read_paragraph(p)
    assert (para.bookmark, para.old, para.new, para.inserted_mark, para.mark_author) == (
        "src_ch01_3",
        "一二三",
        "一贰三",
        True,
        "甲",
    )
    assert [s.kind for s in para.segments] == ["=", "-", "+", "="]
