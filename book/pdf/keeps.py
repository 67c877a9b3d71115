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
    return bind_title_words(bind_last_characters(mark_lead_ins(body)))
