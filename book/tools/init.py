"""`book init`: a folder → a book that builds (book.yaml, two chapters, an image, a Makefile), or
another tool's table of contents (`--from SUMMARY.md` / `_quarto.yml`) → a book.yaml over the
manuscript as it is.

Nothing that exists is overwritten: a book.yaml already there is an error naming it, and an
import writes book.yaml (and a Makefile where there is none) beside the files it lists, which it
never edits.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from book.engine.atomic import write_bytes, write_text
from book.errors import BookError, Problem, display_path
from book.source import imports

CHAPTER_1 = """# 开始

这是第一章。把这个文件换成你自己的文字：每一章是一个 Markdown 文件，在 `book.yaml` 的
`chapters:` 下按顺序列出。标题取自文件的第一个标题，章号按顺序自动编排。

![一张示意图](../images/figure.png)

下一章讲[如何继续](02-next.md)。
"""
CHAPTER_2 = """# 继续

这是第二章。运行 `make` 会在 `build/` 里生成 EPUB 和 PDF；`make help` 列出全部命令。

## 一个小节

小节的标题会进入目录。[^1]

[^1]: 脚注印在页脚。
"""
YAML = """# The book: metadata and its parts in reading order. Paths are relative to this file.
title: {title}
authors:
  - 作者
language: zh-Hans
chapters:
  - chapters/01-start.md
  - chapters/02-next.md
"""
MAKEFILE = """# `make` builds build/<slug>.epub and build/<slug>.pdf with the book toolchain; `make help` lists the rest.
BOOK ?= {python} -m book

.PHONY: all epub pdf check lint preview clean help
all: ## the EPUB and the PDF in build/
\t$(BOOK) build
epub: ## the EPUB only (checked by EPUBCheck)
\t$(BOOK) build --format epub
pdf: ## the print PDF only
\t$(BOOK) build --format pdf
check: all ## every validator on the built files
\t$(BOOK) check
lint: ## manuscript problems as file:line: message
\t$(BOOK) lint
preview: ## the EPUB in a local e-reader page, rebuilt on every edit
\t$(BOOK) preview
clean: ## remove build/
\trm -rf build
help: ## this list
\t@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\\t/'
"""


def figure_png() -> bytes:
    """The scaffold's image: 1500 px wide, so it prints above 300 dpi across an A5 type area."""
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (1500, 750), (246, 241, 232))
    draw = ImageDraw.Draw(img)
    for i, colour in enumerate(((139, 26, 26), (60, 90, 140), (90, 130, 80))):
        x = 200 + i * 400
        draw.rectangle((x, 650 - 150 * (i + 1), x + 250, 650), fill=colour)
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()


def _refuse_existing(paths: list[Path]) -> None:
    there = [p for p in paths if p.exists()]
    if there:
        raise BookError([Problem(display_path(p), None, "already exists; book init never overwrites a file",
                                 "edit it, remove it, or init another folder") for p in there])  # fmt: skip


def init(folder: Path, source: Path | None = None) -> list[Path]:
    """Scaffold `folder` (or import `source` into it); returns the files written."""
    folder = folder.resolve()
    config = folder / "book.yaml"
    makefile = folder / "Makefile"
    python = sys.executable
    if source is None:
        files = {
            config: YAML.format(title=json.dumps(folder.name or "我的书", ensure_ascii=False)).encode(),
            folder / "chapters" / "01-start.md": CHAPTER_1.encode(),
            folder / "chapters" / "02-next.md": CHAPTER_2.encode(),
            folder / "images" / "figure.png": b"",
            makefile: MAKEFILE.format(python=python).encode(),
            folder / ".gitignore": b"build/\n",
        }
        _refuse_existing(list(files))
        files[folder / "images" / "figure.png"] = figure_png()
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_bytes(path, data)
        return list(files)
    _refuse_existing([config])
    source = source.resolve()
    if not source.is_file():
        raise BookError(Problem(display_path(source), None, "not found", "give the path of SUMMARY.md or _quarto.yml"))
    if source.suffix.lower() in (".yml", ".yaml"):
        outline = imports.parse_quarto(source, folder)
    else:
        outline = imports.parse_summary(source, folder)
    for w in outline.warnings:
        print(w, file=sys.stderr)
    if not outline.numbered() and not outline.frontmatter:
        raise BookError(Problem(display_path(source), None, "lists no chapter file", "check that it is the book's table of contents"))  # fmt: skip
    written = [config]
    write_text(config, imports.to_yaml(outline, folder.name, display_path(source)))
    if not makefile.exists():
        write_text(makefile, MAKEFILE.format(python=python))
        written.append(makefile)
    parts = f", {len(outline.parts)} parts" if outline.parts else ""
    print(f"{display_path(config)}: {len(outline.numbered())} chapters{parts}, "
          f"{len(outline.frontmatter)} front and {len(outline.backmatter)} back matter, "
          f"{len(outline.appendices)} appendices", file=sys.stderr)  # fmt: skip
    return written
