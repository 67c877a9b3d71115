"""Inline text runs of an HTML tree → the same runs with CJK punctuation and spacing rules applied.

A run is the inline content of one block (a paragraph, a list item's own text, a heading) read as a
single string across element boundaries, so quotes pair and spaces normalise across `<em>`/`<a>`.
Characters inside protected markup (code, kbd, math…: `PROTECTED_TAGS`) and URL-like text are part of the run as context
but are never changed, and nothing is inserted inside them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from lxml import etree

from book.text import CLOSING, FULLWIDTH_PUNCT, HAN, HAN_RE, LATIN_END, LATIN_START, OPENING, STOPS, URL_RE, WJ

WS = " \t\n"

PROTECTED_TAGS = {"code", "pre", "kbd", "samp", "script", "style", "math", "svg"}
BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hgroup", "hr", "li", "main", "nav", "ol", "p", "section", "summary", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "ul", "caption", "br",
}  # fmt: skip


def local(tag: object) -> str:
    return tag.split("}")[-1] if isinstance(tag, str) else ""


def _ours(el: etree._Element) -> bool:
    """A span the typography stage added (class `cjk-…`): transparent to the text rules."""
    return local(el.tag) == "span" and any(c.startswith("cjk-") for c in (el.get("class") or "").split())


# Inline elements the stylesheets display as blocks (a bilingual heading's English subtitle): a run ends there,
# so no Han–Latin space is inserted across the line break they make.
BLOCK_CLASSES = {"heading-en"}


def is_block(el: etree._Element) -> bool:
    return local(el.tag) in BLOCK_TAGS or bool(BLOCK_CLASSES & set((el.get("class") or "").split()))


def place(node: etree._Element, attr: str, elements: list[etree._Element]) -> None:
    """Put `elements` where `node`'s `attr` ("text" or "tail") was split: first inside it, or after it."""
    if attr == "text":
        for i, el in enumerate(elements):
            node.insert(i, el)
        return
    parent = node.getparent()
    at = parent.index(node)
    for i, el in enumerate(elements):
        parent.insert(at + 1 + i, el)


def is_protected(el: etree._Element) -> bool:
    return local(el.tag) in PROTECTED_TAGS or el.get("data-typography") == "off"


@dataclass(slots=True)
class Seg:
    """One text slot of the tree: `node.text` or `node.tail`."""

    node: etree._Element
    attr: str  # "text" | "tail"
    depth: int
    locked: bool


@dataclass(slots=True)
class Ch:
    c: str
    seg: int
    locked: bool


class Run:
    """A block's inline text as an editable character list that writes back into the tree."""

    def __init__(self, segs: list[Seg]):
        self.segs = segs
        # tokens: int = start of segment k; Ch = a character of the current segment
        self.tokens: list[int | Ch] = []
        for k, seg in enumerate(segs):
            self.tokens.append(k)
            for c in getattr(seg.node, seg.attr) or "":
                self.tokens.append(Ch(c, k, seg.locked))
        self._reindex()

    def _reindex(self) -> None:
        self.pos = [i for i, t in enumerate(self.tokens) if isinstance(t, Ch)]
        self.chars: list[Ch] = [self.tokens[i] for i in self.pos]  # type: ignore[misc]
        self.text = "".join(c.c for c in self.chars)

    def lock(self, start: int, end: int) -> None:
        for ch in self.chars[start:end]:
            ch.locked = True

    def locked(self, i: int) -> bool:
        return 0 <= i < len(self.chars) and self.chars[i].locked

    def any_locked(self, start: int, end: int) -> bool:
        return any(ch.locked for ch in self.chars[start:end])

    def _gap_seg(self, i: int) -> int | None:
        """The best segment to insert into just before character i (shallowest unlocked)."""
        lo = self.pos[i - 1] if i > 0 else 0
        hi = self.pos[i] if i < len(self.pos) else len(self.tokens)
        cands: list[int] = []
        if i > 0:
            cands.append(self.chars[i - 1].seg)
        cands.extend(t for t in self.tokens[lo:hi] if isinstance(t, int))
        if i < len(self.chars) and not cands:
            cands.append(self.chars[i].seg)
        cands = [k for k in cands if not self.segs[k].locked]
        if not cands:
            return None
        return min(cands, key=lambda k: self.segs[k].depth)

    def replace(self, start: int, end: int, new: str, reindex: bool = True) -> bool:
        """Replace characters [start, end) by `new`; refuses (False) to touch locked text.

        `reindex=False` (apply_edits, which goes from the end) keeps `chars`/`pos` right only up to
        and including index `start`, and `text` only before it: a full reindex per edit made a
        paragraph's typesetting quadratic in its length (a 10,000-character paragraph took seconds).
        """
        if self.any_locked(start, end) or (start == end and self.locked(start - 1) and self.locked(start)):
            return False
        if start == end:
            seg = self._gap_seg(start)
            if seg is None:
                return False
            lo = self.pos[start - 1] + 1 if start > 0 else 0
            hi = self.pos[start] if start < len(self.pos) else len(self.tokens)
            if start > 0 and self.chars[start - 1].seg == seg:
                at = lo
            else:
                at = next(j for j in range(lo, hi) if self.tokens[j] == seg) + 1
            new_tokens: list[int | Ch] = [Ch(c, seg, False) for c in new]
            self.tokens[at:at] = new_tokens
        else:
            seg = self.chars[start].seg
            at = self.pos[start]
            last = self.pos[end - 1]
            keep_markers = [t for t in self.tokens[at : last + 1] if isinstance(t, int)]
            self.tokens[at : last + 1] = [Ch(c, seg, False) for c in new] + keep_markers  # type: ignore[list-item]
        if reindex:
            self._reindex()
        else:
            self._reindex_at(start, at)
        return True

    def _reindex_at(self, start: int, at: int) -> None:
        """After an edit at character `start` (token `at`): the character now at `start`, nothing after.

        Tokens before `at` did not move, so `pos`/`chars` before `start` still hold; dropping the
        stale tail costs its length once, since later edits only go further left.
        """
        del self.pos[start:], self.chars[start:]
        for j in range(at, len(self.tokens)):
            t = self.tokens[j]
            if isinstance(t, Ch):
                self.pos.append(j)
                self.chars.append(t)
                break

    def write(self) -> None:
        texts: dict[int, list[str]] = {k: [] for k in range(len(self.segs))}
        for t in self.tokens:
            if isinstance(t, Ch):
                texts[t.seg].append(t.c)
        for k, s in enumerate(self.segs):
            if s.locked:
                continue
            new = "".join(texts[k])
            old = getattr(s.node, s.attr)
            if (old or "") != new:
                setattr(s.node, s.attr, new or None)


def segments(root: etree._Element) -> Iterator[list[Seg]]:
    """Every inline run's text slots under `root` (protected blocks skipped), before any Run is
    made of them: a reader that only looks (book.epub.spacing) needs no Ch per character."""
    pending: list[list[Seg]] = []

    def walk_block(el: etree._Element, depth: int) -> None:
        segs: list[Seg] = [Seg(el, "text", depth, False)]
        for child in el:
            if not isinstance(child.tag, str):  # comments, PIs
                segs.append(Seg(child, "tail", depth, False))
                continue
            name = local(child.tag)
            if is_block(child):
                pending.append(segs)
                if is_protected(child) or name in ("pre",):
                    pass
                else:
                    walk_block(child, depth + 1)
                segs = [Seg(child, "tail", depth, False)]
            else:
                walk_inline(child, depth + 1, segs, is_protected(child))
                segs.append(Seg(child, "tail", depth, False))
        pending.append(segs)

    def walk_inline(el: etree._Element, depth: int, segs: list[Seg], locked: bool) -> None:
        segs.append(Seg(el, "text", depth, locked))
        for child in el:
            if not isinstance(child.tag, str):
                segs.append(Seg(child, "tail", depth, locked))
                continue
            walk_inline(child, depth + 1, segs, locked or is_protected(child))
            segs.append(Seg(child, "tail", depth, locked))

    if is_protected(root):
        return
    walk_block(root, 0)
    for segs in pending:
        if any(getattr(s.node, s.attr) for s in segs):
            yield segs


def runs(root: etree._Element) -> Iterator[Run]:
    """Every inline run under `root`, skipping protected blocks entirely; URLs locked."""
    for segs in segments(root):
        run = Run(segs)
        for m in URL_RE.finditer(run.text):
            run.lock(m.start(), m.end())
        yield run


# ---- character helpers -------------------------------------------------------------------------


def is_han(c: str) -> bool:
    return bool(c) and HAN_RE.match(c) is not None


def is_cjk(c: str) -> bool:
    return is_han(c) or (bool(c) and c in FULLWIDTH_PUNCT)


def prev_char(text: str, i: int, skip: str = WJ) -> str:
    """The character before index i, ignoring word joiners (and `skip`)."""
    j = i - 1
    while j >= 0 and text[j] in skip:
        j -= 1
    return text[j] if j >= 0 else ""


def next_char(text: str, i: int, skip: str = WJ) -> str:
    j = i
    while j < len(text) and text[j] in skip:
        j += 1
    return text[j] if j < len(text) else ""


Edit = tuple[int, int, str]


def apply_edits(run: Run, edits: list[Edit]) -> int:
    """Apply non-overlapping edits from the end so indices stay valid; count the applied ones."""
    n, fresh_below = 0, len(run.chars)  # run.text is right below this index, chars/pos up to it
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        if end > fresh_below:  # overlaps an edit just made: read it as a full reindex would
            run._reindex()
            fresh_below = len(run.chars)
        if run.text[start:end] == new:
            continue
        if run.replace(start, end, new, reindex=False):
            n += 1
            fresh_below = start
    if n:  # the chars after the last edit, and all of text, are stale until now
        run._reindex()
    return n


# ---- rules -------------------------------------------------------------------------------------


def dashes_ellipses(run: Run) -> int:
    """Rule 7: `--`, a lone `—`, `...` and `。。。` next to Chinese become `——` and `……`."""
    t = run.text
    edits: list[Edit] = []
    # a word joiner (kinsoku's, or the glue after a span) does not split a run: `--⁠——` stays as it is
    for m in re.finditer(
        f"(?<![-—])(?<![-—]{WJ})(?:---?|—)(?!{WJ}?[-—])|(?<!\\.)(?<!\\.{WJ})\\.{{3,}}(?!{WJ}?\\.)"
        f"|(?<!…)(?<!…{WJ})…(?!{WJ}?…)|(?<!。)(?<!。{WJ})。(?:{WJ}?。){{2,}}(?!{WJ}?。)",
        t,
    ):
        before, after = prev_char(t, m.start(), WJ + WS), next_char(t, m.end(), WJ + WS)
        if not (is_cjk(before) or is_cjk(after)):
            continue
        if run.any_locked(m.start(), m.end()):
            continue
        new = "——" if m.group()[0] in "-—" else "……"
        # the dash or ellipsis takes the place of the spaces around it
        s, e = m.start(), m.end()
        while s > 0 and t[s - 1] == " " and not run.locked(s - 1):
            s -= 1
        while e < len(t) and t[e] == " " and not run.locked(e):
            e += 1
        edits.append((s, e, new))
    return apply_edits(run, edits)


def _pair(run: Run, quote: str, opening: str, closing: str, positions: list[int]) -> list[Edit]:
    t = run.text
    edits: list[Edit] = []
    if len(positions) % 2 == 0:
        for n, i in enumerate(positions):
            edits.append((i, i + 1, opening if n % 2 == 0 else closing))
        return edits
    # unpaired: decide each from its neighbours (an opening mark is followed by text, not preceded)
    for i in positions:
        before, after = prev_char(t, i), next_char(t, i + 1)
        opens = (before in ("", " ", "\n") or before in OPENING) and after not in ("", " ", "\n")
        edits.append((i, i + 1, opening if opens else closing))
    return edits


SIMPLIFIED_QUOTES = ("“", "”", "‘", "’")


def quotes(run: Run, marks: tuple[str, str, str, str] = SIMPLIFIED_QUOTES) -> tuple[int, int]:
    """Rule 8: ASCII quotes in Chinese text → paired “ ” and ‘ ’ (or the locale's `marks`, 「」『』);
    returns (fixed, unpaired)."""
    t = run.text
    if not HAN_RE.search(t):
        return 0, 0
    doubles = [i for i, c in enumerate(t) if c == '"' and not run.locked(i)]
    singles = [
        i
        for i, c in enumerate(t)
        if c == "'" and not run.locked(i) and not (re.match(r"[A-Za-z0-9]", prev_char(t, i)) and re.match(r"[A-Za-z]", next_char(t, i + 1)))
    ]  # fmt: skip
    unpaired = len(doubles) % 2 + len(singles) % 2
    edits = _pair(run, '"', marks[0], marks[1], doubles) + _pair(run, "'", marks[2], marks[3], singles)
    return apply_edits(run, edits), unpaired


FULLWIDTH = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", ".": "。"}


def fullwidth_punct(run: Run) -> int:
    """Rule 9: ASCII `, ; : ? ! .` after Han (and `( )` around Chinese) → full-width."""
    t = run.text
    if not HAN_RE.search(t):
        return 0
    edits: list[Edit] = []
    for m in re.finditer(r"[,;:?!.]", t):
        i = m.start()
        if run.locked(i):
            continue
        c = m.group()
        before = prev_char(t, i, WJ + WS)
        after_raw = next_char(t, i + 1, WJ)
        after = next_char(t, i + 1, WJ + " ")
        if is_han(before) or before in CLOSING:
            if c == "." and (after_raw and after_raw not in " \n" and not is_cjk(after_raw)):
                continue  # 文件.txt, 3.5
            if c == ":" and after_raw == "/":
                continue
        elif re.match(f"[{LATIN_END}]", before or "x") and c != "." and is_han(after):
            if c == ":" and after_raw not in " \n":
                continue  # 12:30, a:b
        else:
            continue
        # the full-width mark carries its own space: drop the ASCII space after it
        e = i + 1
        while e < len(t) and t[e] == " " and not run.locked(e) and after and not run.locked(e + 1):
            e += 1
        edits.append((i, e, FULLWIDTH[c]))
    # parentheses: a matched ASCII pair in Chinese context becomes （ ）
    stack: list[int] = []
    for i, c in enumerate(t):
        if run.locked(i) or c not in "()":
            continue
        if c == "(":
            stack.append(i)
        elif stack:
            o = stack.pop()
            inner = t[o + 1 : i]
            if is_han(prev_char(t, o, WJ + " ")) or is_han(next_char(t, i + 1, WJ + " ")) or HAN_RE.search(inner):
                if re.match(r"[A-Za-z0-9_]", prev_char(t, o, WJ)) and not HAN_RE.search(inner):
                    continue  # f(x) in a Chinese sentence stays a formula
                s = o
                while s > 0 and t[s - 1] == " " and not run.locked(s - 1):
                    s -= 1
                e = i + 1
                while e < len(t) and t[e] == " " and not run.locked(e):
                    e += 1
                edits.append((o + 1 if s == o else s, o + 1, "（") if s != o else (o, o + 1, "（"))
                edits.append((i, e, "）"))
    # edits may overlap (an ASCII `,` right after `)`): keep the first of any overlap
    edits.sort()
    kept: list[Edit] = []
    for e in edits:
        if kept and e[0] < kept[-1][1]:
            continue
        kept.append(e)
    return apply_edits(run, kept)


def spacing(run: Run) -> int:
    """Rule 10: one U+0020 (¼ em in Noto CJK) between Han and Latin/digits; none by full-width punctuation."""
    t = run.text
    edits: list[Edit] = []
    # spaces that touch full-width punctuation go (between two characters only: block edges stay)
    for m in re.finditer(f"[{WS}]+", t):
        s, e = m.start(), m.end()
        if s == 0 or e == len(t):
            continue
        b, a = t[s - 1], t[e]
        if (b in FULLWIDTH_PUNCT and b != "·") or (a in FULLWIDTH_PUNCT and a != "·"):
            if not run.any_locked(s, e):
                edits.append((s, e, ""))
    n = apply_edits(run, edits)
    t = run.text
    edits = []
    pattern = re.compile(f"(?<=[{HAN}])[{WS}]*(?=[{WJ}]?[{LATIN_START}])|(?<=[{LATIN_END}])[{WS}]*(?=[{HAN}])")
    for m in pattern.finditer(t):
        s, e = m.start(), m.end()
        if t[s:e] == " ":
            continue
        if s == e and run.locked(s - 1) and run.locked(s):
            continue
        edits.append((s, e, " "))
    return n + apply_edits(run, edits)


def kinsoku(run: Run) -> int:
    """Rule 6: a word joiner before `——`, `……` and `·` so none of them can start a line."""
    t = run.text
    edits: list[Edit] = []
    for m in re.finditer(r"(?<![—…·])(?:——|……|·)", t):
        i = m.start()
        if i == 0 or t[i - 1] in WJ + WS or run.locked(i) or run.locked(i - 1):
            continue
        edits.append((i, i, WJ))
    # across an element boundary WeasyPrint may break where Pango alone would not: glue the marks
    chars = run.chars
    for i in range(1, len(chars)):
        a, b = chars[i - 1], chars[i]
        if a.seg == b.seg or WJ in (a.c, b.c) or a.c in WS or b.c in WS:
            continue
        if _ours(run.segs[a.seg].node) or _ours(run.segs[b.seg].node):
            continue  # our own spans (halt, dash, dots) are glued already
        if b.c in CLOSING + STOPS or a.c in OPENING:
            edits.append((i, i, WJ))
    return apply_edits(run, edits)


TEXT_RULES: list[tuple[str, Callable[[Run], int]]] = [
    ("fullwidth", lambda run: fullwidth_punct(run) + fullwidth_punct(run)),  # `),` needs the `）` first
    ("dashes", lambda run: dashes_ellipses(run) + dashes_ellipses(run)),
    ("spacing", spacing),
    ("kinsoku", kinsoku),
]


def apply_text_rules(root: etree._Element, marks: tuple[str, str, str, str] = SIMPLIFIED_QUOTES) -> dict[str, int]:
    counts = {"quotes": 0, "unpaired_quotes": 0}
    counts.update({name: 0 for name, _ in TEXT_RULES})
    for run in runs(root):
        fixed, unpaired = quotes(run, marks)
        counts["quotes"] += fixed
        counts["unpaired_quotes"] += unpaired
        # one rule's output can enable another's (`汉.--汉`: the dash made by `dashes` makes the
        # `.` before it a full stop): repeat until nothing changes, so a second pass is a no-op
        for _ in range(4):
            changed = 0
            for name, rule in TEXT_RULES:
                n = rule(run)
                counts[name] += n
                changed += n
            if not changed:
                break
        run.write()
    return counts
