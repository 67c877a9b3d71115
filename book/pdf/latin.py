"""Latin runs in the print body → the same body with those runs tagged `lang="en"`, so they hyphenate.

The document is `lang="zh-Hans"`: WeasyPrint asks Pyphen for a dictionary by the element's language
and finds none for Chinese, so `hyphens: auto` never breaks a Latin word and a line with a long one
puts its slack into its gaps. A run of two or more Latin words, or one long word, in a paragraph or
list item is wrapped in `<span lang="en">` (styles/grid.css hyphenates `[lang="en"]` in the text).
Words that must not break are left outside the runs: names with inner capitals or digits (OpenAI,
LLaMA, GPT-4), acronyms, URLs, addresses and file names; nothing is tagged inside code, listings,
formulas, SVG, headings or attributes. The EPUB is not touched: reading systems hyphenate by their own
rules.
"""

from __future__ import annotations

import re

WORD = r"[A-Za-z][a-z]*(?:['’-][a-z]+)*"  # a plain word: lower case, or capitalised only
# a run: plain words separated by one space, not touching other letters, digits, dots or slashes
RUN = re.compile(rf"(?<![\w.@/:&;#-]){WORD}(?: {WORD})*(?![\w.@/:-]|\.\w)")
LONG = 7  # letters: a single word this long is worth hyphenating (Pyphen's limits are 2 + 2 + 1)
TAG = re.compile(r"<(/?)([a-zA-Z][\w-]*)\b[^>]*?(/?)>|<!--[\s\S]*?-->")
SKIP = frozenset({"code", "pre", "kbd", "samp", "var", "script", "style", "math", "svg", "h1", "h2", "h3", "h4",
                  "h5", "h6", "figcaption", "table"})  # fmt: skip
TEXT_BLOCKS = frozenset({"p", "li", "dd"})
VOID = frozenset({"br", "img", "hr", "wbr", "input", "meta", "link", "col", "area", "source"})


def _tag_runs(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        run = m.group(0)
        if " " in run or len(run) >= LONG:
            return f'<span lang="en">{run}</span>'
        return run

    return RUN.sub(one, text)


def tag_latin(body: str) -> str:
    """Every hyphenable Latin run in the text of paragraphs and list items wrapped in `<span lang="en">`."""
    out: list[str] = []
    stack: list[str] = []
    skipping = 0  # depth of open elements whose text is never tagged
    blocks = 0
    pos = 0
    for m in TAG.finditer(body):
        text = body[pos : m.start()]
        if text and blocks and not skipping and "://" not in text:
            text = _tag_runs(text)
        out.append(text)
        out.append(m.group(0))
        pos = m.end()
        closing, name, self_closing = m.group(1), (m.group(2) or "").lower(), m.group(3)
        if not name or self_closing or name in VOID:
            continue
        if not closing:
            if name == "a" and _url_text(body, m.end()):
                name = "a#url"  # a link that prints its address: no run inside it
            stack.append(name)
            skipping += name in SKIP or name == "a#url"
            blocks += name in TEXT_BLOCKS
            continue
        while stack:  # close up to the matching element (the body is well-formed; this only guards)
            top = stack.pop()
            skipping -= top in SKIP or top == "a#url"
            blocks -= top in TEXT_BLOCKS
            if top == name or (top == "a#url" and name == "a"):
                break
    out.append(body[pos:])
    return "".join(out)


def _url_text(body: str, start: int) -> bool:
    """Whether the link opened just before `start` prints an address (its text is the URL)."""
    end = body.find("</a>", start)
    return end != -1 and re.search(r"://|www\.|\w\.\w{2,}/", body[start:end]) is not None
