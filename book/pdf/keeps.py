"""Print keeps in the markup: a part's print body → the same body with the marks the keeps need.

CSS alone cannot see them (WeasyPrint 70 has no `:has()` and no `text-wrap`):
- a paragraph that ends in "：" introduces what follows (a list, a quotation, a box), and a
  paragraph that is only bold text is a run-in head: both get `class="lead-in"`, which
  styles/grid.css keeps with the next block (`break-after: avoid`);
- a paragraph's or list item's last two Han characters (with the punctuation after them) are bound
  in `<span class="keep-end">` (`white-space: nowrap`), so its last line never holds one character
  alone (孤字); the line before gives up one character, about 1/30 em per gap at a 32-字 measure;
- a chapter's display title breaks only between its words: each run of two to six Han characters
  between spaces, Latin and punctuation is bound (`keep-end`), so "AI 民主化" turns over before
  民主化, not inside it (a jieba-free heuristic: Chinese titles space their Latin words).
"""

from __future__ import annotations

import re

from book.text import HAN

_TRAIL = "\u2060。，、；：？！）」』”’》〉.,;:!?)"
_END_MARK = f'(?:[{re.escape(_TRAIL)}]|<span class="cjk-[a-z-]+">[^<]{{1,2}}</span>)'
LAST_TWO = re.compile(f"(?<=[{HAN}>])([{HAN}]{{2}}{_END_MARK}*)(?=</(?:p|li)>)")
PARAGRAPH = re.compile(r"<p\b([^>]*)>((?:(?!</?p\b)[\s\S])*?)</p>")
_COLON_END = re.compile(r"[：:]\u2060?(?:</[a-z]+>)*\s*$")
_ONLY_BOLD = re.compile(r"^\s*<strong>(?:(?!</?strong>)[\s\S])*</strong>\s*$")


def _add_class(attrs: str, name: str) -> str:
    m = re.search(r'\bclass="([^"]*)"', attrs)
    if m:
        return attrs[: m.start(1)] + f"{m.group(1)} {name}" + attrs[m.end(1) :]
    return f'{attrs} class="{name}"'


def mark_lead_ins(body: str) -> str:
    """`class="lead-in"` on every paragraph ending in "：" and every paragraph of bold text only."""

    def one(m: re.Match[str]) -> str:
        attrs, inner = m.group(1), m.group(2)
        if _COLON_END.search(inner) or _ONLY_BOLD.match(inner):
            attrs = _add_class(attrs, "lead-in")
        return f"<p{attrs}>{inner}</p>"

    return PARAGRAPH.sub(one, body)


def bind_last_characters(body: str) -> str:
    """The last two Han characters of each paragraph and list item (and the marks after them) bound."""
    return LAST_TWO.sub(r'<span class="keep-end">\1</span>', body)


OPENER_TITLE = re.compile(r'(<h1\b[^>]*class="opener-title"[^>]*>)([^<]*)(</h1>)')
HAN_WORD = re.compile(f"(?<![{HAN}])[{HAN}]{{2,6}}(?![{HAN}])")


def bind_title_words(body: str) -> str:
    """The opener title's short Han runs bound, so the title turns over between words."""

    def one(m: re.Match[str]) -> str:
        return m.group(1) + HAN_WORD.sub(r'<span class="keep-end">\g<0></span>', m.group(2)) + m.group(3)

    return OPENER_TITLE.sub(one, body)


def mark(body: str) -> str:
    return mark_long_boxes(bind_title_words(bind_last_characters(mark_lead_ins(body))))


BOX_OPEN = re.compile(r'<section\b([^>]*\bclass="(?:callout|summary-box)\b[^"]*"[^>]*)>')
SECTION_TAG = re.compile(r"<(/?)section\b")
LONG_BOX = 12  # lines, about a third of a page: a box this long splits (3 lines a side) rather than move whole
MEASURE = 30  # characters a box's line holds (the 32-字 measure less the box's padding)


def box_lines(inner: str) -> int:
    """About how many lines a box's markup sets: each block's characters over the measure, rounded up."""
    lines = 0
    for block in re.findall(r"<(?:p|li|h[1-6]|div class=\"callout-title\")\b[^>]*>([\s\S]*?)</", inner):
        text = re.sub(r"<[^>]+>", "", block)
        han = len(re.findall(f"[{HAN}]|[^\\x00-\\x7f]", text))
        latin = len(re.findall(r"[\x21-\x7e]", text))
        lines += max(1, -(-(han + latin // 2) // MEASURE))
    return lines


def mark_long_boxes(body: str) -> str:
    """`box-long` on every callout and takeaways box of more than `LONG_BOX` lines: grid.css lets
    those split, so a page is not left a third empty by a box moved whole to the next."""
    out, pos = [], 0
    for m in BOX_OPEN.finditer(body):
        if m.start() < pos:
            continue
        depth, end = 0, len(body)
        for t in SECTION_TAG.finditer(body, m.start()):
            depth += -1 if t.group(1) else 1
            if depth == 0:
                end = t.start()
                break
        attrs = m.group(1)
        if box_lines(body[m.end() : end]) > LONG_BOX:
            attrs = _add_class(attrs, "box-long")
        out.append(body[pos : m.start()] + f"<section{attrs}>")
        pos = m.end()
    out.append(body[pos:])
    return "".join(out)
