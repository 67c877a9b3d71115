"""A display line's text → markup with its Latin runs in `latin-run` spans, set without letter-spacing.

The title page and the openers letter-space their lines (`.book-title { letter-spacing: 0.12em }`),
which suits Han, each character a square, but tears a Latin word apart ("D o c k e r"). CSS cannot
select a script, so the templates pass these lines through the `latin_runs` filter and the styles
reset the spacing on the spans (`.latin-run { letter-spacing: 0 }`). A run keeps its inner spaces
and joining marks ("Node.js", "C++", "Visual Studio Code"), so a name is one span.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

LETTER = "A-Za-z0-9\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff"
LATIN_RUN = re.compile(f"[{LETTER}][{LETTER} .,'’&+#/:_-]*[{LETTER}+#]")  # two characters or more


def latin_runs(text: object) -> Markup:
    """`text` escaped, each Latin run wrapped in `<span class="latin-run">`."""
    value = str(text or "")
    out, last = [], 0
    for m in LATIN_RUN.finditer(value):
        out.append(escape(value[last : m.start()]))
        out.append(Markup('<span class="latin-run">{}</span>').format(m.group(0)))
        last = m.end()
    out.append(escape(value[last:]))
    return Markup("").join(out)
