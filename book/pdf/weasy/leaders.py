"""Leader dots: one box for a leader's dots in the layout, and each dot drawn as a replay.

WeasyPrint lays a `leader(".")` out as one copy of the dot's text box per dot, all sharing one Pango
layout. On the 30-chapter book's table of contents that is 17 500 boxes for 315 lines, and every
later pass walks each of them (backgrounds, stacking, the overflow check, drawing): the dots were
0.9 of the TOC's 1.4 s of CPU. Two patches:

- `handle_leader`: once WeasyPrint has placed the copies, they are replaced by one `LeaderRun` box
  that spans them and keeps each dot's x. Drawing it draws each dot as WeasyPrint would, in the
  same order, so the page's content stream is byte-identical. A tagged PDF (`separate_dots()`)
  keeps WeasyPrint's boxes: there each dot is a marked-content span of its own.
- `draw_first_line`: a text box drawn right after one with the same layout, text and baseline gets
  the same operators after its text matrix, so they are replayed behind the new matrix.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator
from typing import Any

_last: list[Any] = []  # [stream, layout, key, operators] of the line drawn last
_collapse = contextvars.ContextVar("book_leader_collapse", default=True)


@contextlib.contextmanager
def separate_dots() -> Iterator[None]:
    """While active, leaders keep WeasyPrint's one box per dot (a tagged PDF marks each)."""
    token = _collapse.set(False)
    try:
        yield
    finally:
        _collapse.reset(token)


def install() -> None:
    from weasyprint import draw
    from weasyprint.draw import text
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout import inline, leader

    original = text.draw_first_line
    if getattr(original, "_book_replays", False):
        return

    @functools.wraps(original)
    def draw_first_line(stream: Any, textbox: Any, text_overflow: Any, block_ellipsis: Any, matrix: Any) -> Any:
        values = tuple(matrix.values)
        key = (textbox.text, values[:4], values[5], text_overflow, block_ellipsis)
        if _last and _last[0] is stream and _last[1] is textbox.pango_layout and _last[2] == key:
            stream.set_text_matrix(*values)
            stream.stream.extend(_last[3])
            return []
        start = len(stream.stream)
        emojis = original(stream, textbox, text_overflow, block_ellipsis, matrix)
        ops = stream.stream[start:]
        _last.clear()
        if not emojis and ops and block_ellipsis == "none" and ops[0].endswith(b" Tm"):
            _last.extend((stream, textbox.pango_layout, key, ops[1:]))
        return emojis

    draw_first_line._book_replays = True  # type: ignore[attr-defined]
    text.draw_first_line = draw_first_line

    class LeaderRun(boxes.TextBox):
        """A leader's dots as one text box: it spans them; `dots` holds each one's (x, width) in
        WeasyPrint's order (right to left)."""

        dots: tuple[tuple[float, float], ...] = ()

        def translate(self, dx: float = 0, dy: float = 0, ignore_floats: bool = False) -> None:
            if dx:
                self.dots = tuple((x + dx, w) for x, w in self.dots)
            super().translate(dx, dy, ignore_floats)

    original_handle = inline.handle_leader

    @functools.wraps(original_handle)
    def handle_leader(context: Any, line: Any, containing_block: Any) -> None:
        original_handle(context, line, containing_block)
        if not _collapse.get():
            return
        index, box = leader.leader_index(line)
        if index is None or len(box.children) < 2 or any(type(c) is not boxes.TextBox for c in box.children):
            return
        dots = box.children
        run = LeaderRun.__new__(LeaderRun)
        run.__dict__.update(dots[0].__dict__)
        run.dots = tuple((d.position_x, d.width) for d in dots)
        left = min(x for x, _ in run.dots)
        run.position_x = left
        run.width = max(x + w for x, w in run.dots) - left
        box.children = (run,)

    inline.handle_leader = handle_leader
    original_draw_text = draw.draw_text

    @functools.wraps(original_draw_text)
    def draw_text(stream: Any, textbox: Any, offset_x: float, text_overflow: Any, block_ellipsis: Any = "none") -> Any:
        if type(textbox) is not LeaderRun:
            return original_draw_text(stream, textbox, offset_x, text_overflow, block_ellipsis)
        # Each dot as WeasyPrint draws its own box: its x and width, its offset in the leader
        # box, and the line's ellipsis for the last one only. Once a dot drawn after another one
        # came out as "its text matrix and the replayed line" inside the text object (no colour,
        # font, decoration or emoji of its own), the next dots are that with their own matrix.
        left, width = textbox.position_x, textbox.width
        last = len(textbox.dots) - 1
        values: tuple[Any, ...] | None = None
        body: list[bytes] = []
        try:
            for i, (x, w) in enumerate(textbox.dots):
                ellipsis = block_ellipsis if i == last else "none"
                if values is not None and ellipsis == "none":
                    stream.begin_text()  # continues the last dot's text object, as WeasyPrint's does
                    stream.set_text_matrix(*values[:4], x, values[5])
                    stream.stream.extend(body)
                    stream.end_text()
                    continue
                textbox.position_x, textbox.width = x, w
                ops = stream.stream
                start, after_text = len(ops), bool(ops) and ops[-1] == b"ET"
                original_draw_text(stream, textbox, offset_x + x - left, text_overflow, ellipsis)
                if i and values is None:
                    values, body = _repeatable(stream, start, after_text, textbox)
        finally:
            textbox.position_x, textbox.width = left, width

    draw.draw_text = draw_text


def _repeatable(stream: Any, start: int, after_text: bool, textbox: Any) -> tuple[tuple[Any, ...] | None, list[bytes]]:
    """(the text matrix's values, the operators between it and ET) when a dot's draw_text, from
    `start`, only set that matrix and drew the line: the text object continued (WeasyPrint's
    begin_text drops an ET just written) or begun, nothing before it, no font set; else (None, [])."""
    from weasyprint.matrix import Matrix

    ops = stream.stream
    if after_text and ops[start - 1] != b"ET":  # the last dot's ET taken back
        added = ops[start - 1 :]
    elif ops[start : start + 1] == [b"BT"]:
        added = ops[start + 1 :]
    else:
        return None, []
    values = tuple(Matrix(d=-1, e=textbox.position_x, f=textbox.position_y + textbox.baseline).values)
    body = added[1:-1]
    if len(added) < 3 or added[-1] != b"ET" or any(op in (b"BT", b"ET") or op.endswith(b" Tf") for op in body):
        return None, []
    mark = len(ops)
    stream.set_text_matrix(*values)
    matrix = ops[mark]
    del ops[mark:]
    return (values, body) if added[0] == matrix else (None, [])
