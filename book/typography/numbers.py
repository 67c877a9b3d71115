"""GB/T 15834/15835 rules on a run of Chinese text → ranges, dashes, Latin punctuation and quotes as
Chinese books print them.

- A range written with a hyphen: years (2023-2024) take the 一字线 (2023—2024); other numbers
  (10-100 倍) the book's choice, ～ (浪纹线, the default) or —. Dates (2023-07, 2024-08-31), model
  names (GPT-3, LLaMA-13B) and phone-like numbers (010-1234) are left alone.
- A hyphen with spaces round it, used as a dash (`OpenAI - 闭源`), becomes ——.
- Half-width `, : ; ? !` and `( )` that punctuate a Chinese sentence become full-width, even where
  the words beside them are Latin (`OpenAI: GPT-3 API, ChatGPT 领先`); Latin prose (three or more
  lower-case words) and titles inside 《》 keep their own punctuation.
- One quotation style per book: 「」『』 in a “”-book become “”‘’, and the reverse.
Protected text (code, URLs, math) is never changed: the run's locked characters are skipped.
"""

from __future__ import annotations

import re

from lxml import etree

from book.text import FULLWIDTH_PUNCT, HAN_RE, WJ
from book.typography.text import SIMPLIFIED_QUOTES, Edit, Run, apply_edits, is_han, next_char, prev_char, runs

NUMBER = r"\d+(?:\.\d+)?%?"
RANGE_RE = re.compile(rf"(?<![A-Za-z0-9_.\-/:+])({NUMBER})(\s?)-(\s?)({NUMBER})(?![A-Za-z0-9_\-/]|\.\d)")
SPACED_HYPHEN_RE = re.compile(r"[ \t]+[-–][ \t]+")
LATIN_PUNCT_RE = re.compile(r"[,:;?!]")
FULL = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！"}
PROSE_WORD = re.compile(r"\b[a-z]{2,}\b")
NUMBER_RANGE_MARKS = ("～", "—")
CORNER_TO_CURLY = {"「": "“", "」": "”", "『": "‘", "』": "’"}
CURLY_TO_CORNER = {v: k for k, v in CORNER_TO_CURLY.items()}


def chinese(text: str) -> bool:
    """A run of Chinese text: Han, or full-width punctuation (`**After LLaMA (2023-2024)**：`)."""
    return bool(HAN_RE.search(text)) or any(c in FULLWIDTH_PUNCT and c != "·" for c in text)


def _is_year(s: str) -> bool:
    return len(s) == 4 and s.isdigit() and 1000 <= int(s) <= 2999


def ranges(run: Run, number_mark: str = "～", *, always: bool = False) -> int:
    """2023-2024 → 2023—2024; 10-100 → 10～100 (or `number_mark`), in runs with Chinese (`always`: in any)."""
    t = run.text
    if not always and not chinese(t):
        return 0
    mark = number_mark if number_mark in NUMBER_RANGE_MARKS else "～"
    edits: list[Edit] = []
    for m in RANGE_RE.finditer(t):
        a, b = m.group(1), m.group(4)
        if run.any_locked(m.start(), m.end()):
            continue
        if (m.group(2) or m.group(3)) and not (_is_year(a) and _is_year(b)):
            continue  # 3 - 2: arithmetic; only years are ranged across spaces
        if len(a) > 1 and a.startswith("0"):
            continue  # 010-1234: a telephone or a code
        if _is_year(a) and not _is_year(b):
            continue  # 2023-07, 2024-08-31: a date
        if m.end() < len(t) and t[m.end()] == "-":
            continue  # 2024-08-31 seen from its middle
        edits.append((m.start(), m.end(), a + ("—" if _is_year(a) and _is_year(b) else mark) + b))
    return apply_edits(run, edits)


def spaced_hyphens(run: Run) -> int:
    """`OpenAI - 闭源`, `开源路线 - 建立生态`: a spaced hyphen in a Chinese run is a dash (——)."""
    t = run.text
    if not chinese(t):
        return 0
    edits: list[Edit] = []
    for m in SPACED_HYPHEN_RE.finditer(t):
        before, after = prev_char(t, m.start()), next_char(t, m.end())
        if not before or not after or run.any_locked(m.start(), m.end()):
            continue
        if (before.isdigit() or before in ")") and (after.isdigit() or after in "("):
            continue  # 3 - 2: arithmetic
        edits.append((m.start(), m.end(), "——"))
    return apply_edits(run, edits)


def _latin_stretch(t: str, i: int) -> str:
    """The text around index i up to the nearest Han or full-width mark on each side."""
    s = i
    while s > 0 and not (is_han(t[s - 1]) or t[s - 1] in FULLWIDTH_PUNCT):
        s -= 1
    e = i + 1
    while e < len(t) and not (is_han(t[e]) or t[e] in FULLWIDTH_PUNCT):
        e += 1
    return t[s:e]


def _in_title(t: str, i: int) -> bool:
    return t.count("《", 0, i) > t.count("》", 0, i)


def _prose(stretch: str) -> bool:
    return len(PROSE_WORD.findall(stretch)) >= 3


def latin_punct(run: Run) -> int:
    """`, : ; ? !` and `( )` punctuating a Chinese sentence beside Latin words → full-width."""
    t = run.text
    if not chinese(t):
        return 0
    edits: list[Edit] = []
    for m in LATIN_PUNCT_RE.finditer(t):
        i = m.start()
        if run.locked(i) or _in_title(t, i):
            continue
        before, after_raw = prev_char(t, i, WJ), next_char(t, i + 1, WJ)
        if not before or before.isspace() or not (after_raw in ("", " ") or is_han(after_raw)):
            continue  # 12:30, 60,000, a:b, or a mark on its own
        if not re.match(r"[A-Za-z0-9)\]%]", before):
            continue  # after Han: `fullwidth_punct`'s case
        if not after_raw and not HAN_RE.search(_latin_stretch(t, i)) and _prose(t):
            continue
        stretch = _latin_stretch(t, i)
        if _prose(stretch):
            continue
        e = i + 1
        while e < len(t) and t[e] == " " and not run.locked(e):
            e += 1
        edits.append((i, e, FULL[m.group()]))
    stack: list[int] = []
    for i, c in enumerate(t):
        if c not in "()" or run.locked(i):
            continue
        if c == "(":
            stack.append(i)
            continue
        if not stack:
            continue
        o = stack.pop()
        inner = t[o + 1 : i]
        if _in_title(t, o) or _prose(inner) or not inner.strip():
            continue
        if re.match(r"[A-Za-z0-9_]", prev_char(t, o, WJ) or " "):
            continue  # f(x), GPT-4(o): a formula or a name
        s = o
        while s > 0 and t[s - 1] == " " and not run.locked(s - 1):
            s -= 1
        e = i + 1
        while e < len(t) and t[e] == " " and not run.locked(e):
            e += 1
        edits += [(s, o + 1, "（"), (i, e, "）")]
    edits.sort()
    kept: list[Edit] = []
    for ed in edits:
        if not kept or ed[0] >= kept[-1][1]:
            kept.append(ed)
    return apply_edits(run, kept)


def quote_style(run: Run, marks: tuple[str, str, str, str]) -> int:
    """One quotation style per book: the other style's marks become the book's `marks`."""
    if marks[0] == "“":
        table = CORNER_TO_CURLY
    elif marks[0] == "「":
        table = CURLY_TO_CORNER
    else:
        return 0
    t = run.text
    edits: list[Edit] = []
    for i, c in enumerate(t):
        if c not in table or run.locked(i):
            continue
        if (
            c in "‘’"
            and re.match(r"[A-Za-z]", prev_char(t, i) or " ")
            and re.match(r"[A-Za-z]", next_char(t, i + 1) or " ")
        ):
            continue  # don’t: an apostrophe
        edits.append((i, i + 1, table[c]))
    return apply_edits(run, edits)


def apply_gb_rules(
    root: etree._Element, marks: tuple[str, str, str, str] = SIMPLIFIED_QUOTES, number_mark: str = "～"
) -> dict[str, int]:
    """Every rule above on each run of `root` (before the text rules, which then space and glue)."""
    counts = {"ranges": 0, "spaced_hyphens": 0, "latin_punct": 0, "quote_style": 0}
    for run in runs(root):
        counts["quote_style"] += quote_style(run, marks)
        counts["ranges"] += ranges(run, number_mark)
        counts["spaced_hyphens"] += spaced_hyphens(run)
        counts["latin_punct"] += latin_punct(run)
        run.write()
    return counts


def typeset_range_field(text: str, number_mark: str = "～") -> str:
    """A front-matter field that is a range by itself (`period: 2023-2024`) → 2023—2024."""
    root = etree.Element("p")
    root.text = text
    for run in runs(root):
        ranges(run, number_mark, always=True)
        run.write()
    return root.text or ""
