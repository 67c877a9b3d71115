"""Latin runs in the print body → the same body with those runs tagged `lang="en"`, so they hyphenate.

The document is `lang="zh-Hans"`: WeasyPrint asks Pyphen for a dictionary by the element's language
and finds none for Chinese, so `hyphens: auto` never breaks a Latin word and a line with a long one
puts its slack into its gaps. A run of two or more Latin words, or one long word, in a paragraph or
list item is wrapped in `<span lang="en">` (styles/grid.css hyphenates `[lang="en"]` in the text).
Words that must not break are left outside the runs: names with inner capitals or digits (OpenAI,
LLaMA, GPT-4), capitalised words (in Chinese text a name: Databricks), acronyms, the glossary and
index terms the part marks, URLs, addresses and file names; a name with a hyphen (Megatron-LM) is
bound whole (`keep-name`, `white-space: nowrap`); nothing is tagged inside code, listings,
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
LETTER = re.compile(r"[A-Za-z]")  # RUN and HYPHENATED_NAME both need one: text without any is left as it is
TEXT_BLOCKS = frozenset({"p", "li", "dd"})
VOID = frozenset({"br", "img", "hr", "wbr", "input", "meta", "link", "col", "area", "source"})


TERM = re.compile(r'<(?:a|span)\b[^>]*\bclass="(?:glossary-link|index-term-ref)"[^>]*>([^<]*)<')
# a name with a hyphen before a letter (Megatron-LM, GPT-3.5-turbo): Pango would break after that
# hyphen (not before a digit: UAX 14 keeps GPT-4 whole)
HYPHENATED_NAME = re.compile(
    r"(?<![\w.@/:&;#-])(?=[\w.-]*(?:[A-Z]|\d))(?=[\w.-]*-[A-Za-z])[A-Za-z0-9][\w.]*(?:-[\w.]*\w)+(?![\w@/:-])"
)


def book_terms(body: str) -> frozenset[str]:
    """The Latin words of the glossary and index terms the body marks (at their first use)."""
    return frozenset(w.lower() for m in TERM.finditer(body) for w in re.findall(r"[A-Za-z][\w-]*", m.group(1)))


def hyphenable(word: str, terms: frozenset[str] = frozenset()) -> bool:
    """Whether Pyphen may break `word`: a plain lower-case word that is not one of the book's terms.
    A capitalised word in Chinese text is a name (Databricks, Zuckerberg), as are words with capitals
    inside or digits (WORD already leaves those out), and a term is printed whole wherever it occurs."""
    return word[:1].islower() and word.lower() not in terms


def _tag_runs(text: str, terms: frozenset[str] = frozenset()) -> str:
    def tag(words: list[str]) -> str:
        run = " ".join(words)
        if len(words) > 1 or len(run) >= LONG:
            return f'<span lang="en">{run}</span>'
        return run

    def one(m: re.Match[str]) -> str:
        # the hyphenable words in groups; the names between them stay outside the span (lang zh:
        # Pyphen has no dictionary for it, so they never break)
        out: list[str] = []
        group: list[str] = []
        for word in m.group(0).split(" "):
            if hyphenable(word, terms):
                group.append(word)
                continue
            if group:
                out.append(tag(group))
                group = []
            out.append(word)
        if group:
            out.append(tag(group))
        return " ".join(out)

    text = RUN.sub(one, text)
    return HYPHENATED_NAME.sub(lambda m: f'<span class="keep-name">{m.group(0)}</span>', text)


def tag_latin(body: str) -> str:
    """Every hyphenable Latin run in the text of paragraphs and list items wrapped in `<span lang="en">`,
    every name with a hyphen in `<span class="keep-name">` (not broken at its hyphen)."""
    terms = book_terms(body)
    out: list[str] = []
    stack: list[str] = []
    skipping = 0  # depth of open elements whose text is never tagged
    blocks = 0
    pos = 0
    for m in TAG.finditer(body):
        text = body[pos : m.start()]
        if text and blocks and not skipping and "://" not in text and LETTER.search(text):
            text = _tag_runs(text, terms)
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
