"""WeasyPrint speed patch: the styles of list markers' and notes' pseudo-elements → computed when asked for.

WeasyPrint 70's user-agent sheet gives every element `::marker`, `::footnote-call`,
`::footnote-marker`, `::note-call`, `::note-marker` and `::note-callback` rules, so `StyleFor`
computes six pseudo-element styles per element, and only a list item's marker and a note's call and
marker are ever looked up. On a 30-page chapter (1,482 elements) that was 8,892 of its 9,953
computed styles, each with its dictionaries, all of them left for the cyclic collector when the
part is done. The patch keeps such a pseudo-element's cascaded declarations instead and computes
its style the first time `style_for` asks for it, from the same parent and root styles and the same
declarations, so every box gets the style it got and the PDF is the same bytes. A pseudo-element
whose declarations set `anchor` (which is collected as the style is computed) is computed at once,
as before. `::before` and `::after` are looked up for every element that has them and are left
alone. Measured: a small part then a 30-page one, 11.558 → 11.415 G instructions (callgrind), no
CPU-time change above this machine's ±15% noise. Installed by `book.pdf.weasy.install()`. Idempotent.
"""

from __future__ import annotations

from typing import Any

_installed = False
ORIGINALS: dict[str, Any] = {}  # WeasyPrint's own methods, for the tests' comparison

# The pseudo-elements build.py asks for only for a list item or a note (weasyprint 70.0)
DEFERRED = frozenset(("marker", "footnote-call", "footnote-marker", "note-call", "note-marker", "note-callback"))
ATTRIBUTE = "_book_deferred"  # on the StyleFor: (element, pseudo) → (cascaded, root, base URL, collector)


def install() -> None:
    global _installed
    if _installed:
        return
    from weasyprint.css import StyleFor

    set_computed = ORIGINALS.setdefault("set_computed_styles", StyleFor.set_computed_styles)
    call = ORIGINALS.setdefault("__call__", StyleFor.__call__)

    def set_computed_styles(
        self: Any,
        element: Any,
        parent: Any,
        root: Any = None,
        pseudo_type: str | None = None,
        base_url: str | None = None,
        target_collector: Any = None,
    ) -> None:
        # Only StyleFor.__init__ sets an element's pseudo-element (parent is the element itself);
        # page types' pseudo-elements (@top-left…) are not DEFERRED and go through unchanged.
        if pseudo_type in DEFERRED and parent is element:
            cascaded = self._cascaded_styles.get((element, pseudo_type), {})
            if "anchor" not in cascaded:
                deferred = self.__dict__.setdefault(ATTRIBUTE, {})
                deferred[element, pseudo_type] = (cascaded, root, base_url, target_collector)
                return
        set_computed(self, element, parent, root, pseudo_type, base_url, target_collector)

    def style_for(self: Any, element: Any, pseudo_type: str | None = None) -> Any:
        if pseudo_type in DEFERRED:
            deferred = self.__dict__.get(ATTRIBUTE)
            found = deferred.pop((element, pseudo_type), None) if deferred else None
            if found is not None:
                cascaded, root, base_url, collector = found
                key = (element, pseudo_type)
                # set_computed_styles reads the declarations from the cascade, which __init__ emptied
                self._cascaded_styles[key] = cascaded
                try:
                    set_computed(self, element, element, root, pseudo_type, base_url, collector)
                finally:
                    del self._cascaded_styles[key]
        return call(self, element, pseudo_type)

    StyleFor.set_computed_styles = set_computed_styles
    StyleFor.__call__ = style_for
    _installed = True
