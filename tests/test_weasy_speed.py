"""WeasyPrint speed patches (book.pdf.weasy.percents, pangocache, markers): the same PDF as WeasyPrint's own code."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from book.pdf.parallel import render_part_pdf
from book.pdf.weasy import install, markers, pangocache
from tests.conftest import weasyprint_own

CSS = """@page { size: A6; margin: 10mm 8% 12mm; }
body { font-family: "Noto Serif CJK SC", serif; font-size: 10pt; line-height: 1.6; text-align: justify; }
h2 { font-family: "Noto Sans CJK SC", sans-serif; margin: 1em 0 5%; padding: 2px 3%; border: 1px solid; }
.box { box-sizing: border-box; width: 80%; min-width: 5em; max-width: calc(100% - 2em); padding: 4%;
       margin: 0 auto; border: 2pt solid #333; height: auto; min-height: 3em; }
.half { width: 50%; height: 10mm; margin-left: calc(10% + 2mm); }
.caps { font-variant: small-caps; font-feature-settings: "liga" 0; text-decoration: underline; }
.kai { font-family: "LXGW WenKai", serif; font-weight: bold; letter-spacing: 0.05em; }
table { border-collapse: collapse; width: 100%; } td { border: 1px solid; padding: 1% 2px; width: 30%; }
ol { list-style-position: outside; } li::marker { color: #555; } li.red::marker { color: #c00; }
.float { float: right; width: 30%; height: 18mm; border: 1px solid; }
"""
TEXT = "中文排版的段落，含 Latin words 与数字 2024 年，以及「引号」和——破折号。"
HTML = f"""<html lang="zh-CN"><body>
<h2>第一节 标题 Heading</h2><p>{TEXT * 6}</p>
<div class="box"><p lang="en" class="caps">Small caps, ligatures off: office affluent.</p><p class="kai">{TEXT * 2}</p></div>
<div class="half">半宽</div><table><tr><td>甲</td><td class="kai">乙 {TEXT}</td><td>3.14</td></tr></table>
<ol>{"".join(f"<li>{TEXT[: 10 + i]}</li>" for i in range(12))}</ol>
<div class="float">浮动</div><ul>{"<li>甲</li><li class='red'>乙</li>" * 3}</ul><ul>{"<li>丙</li>" * 30}</ul>
<ul class="kai" style="font-size: 14pt">{"<li>甲</li><li>乙</li>" * 2}</ul><ol start="98"><li>九十八</li><li>九十九</li><li>一百</li></ol>
<p lang="ja">日本語の文章も同じ段落に。</p><p style="direction: rtl">RTL paragraph 右到左</p>
</body></html>"""


def _render(tmp_path: Path) -> bytes:
    return render_part_pdf(HTML, [CSS], str(tmp_path) + "/", {"source_date_epoch": 1735689600}).pdf


@contextlib.contextmanager
def _weasyprint_resolve() -> Iterator[None]:
    """WeasyPrint's own `resolve_percentages` back in every module the patch replaced it in."""
    swapped = []
    for module in list(sys.modules.values()):
        fn = getattr(module, "resolve_percentages", None)
        if getattr(module, "__name__", "").startswith("weasyprint.") and hasattr(fn, "__wrapped__"):
            swapped.append((module, fn))
            module.resolve_percentages = fn.__wrapped__
    try:
        yield
    finally:
        for module, fn in swapped:
            module.resolve_percentages = fn


@contextlib.contextmanager
def _weasyprint_setup() -> Iterator[None]:
    from weasyprint.text import line_break

    patched = line_break.Layout.setup, line_break._font_style_cache_key
    line_break.Layout.setup, line_break._font_style_cache_key = (
        pangocache.ORIGINALS["setup"],
        pangocache.ORIGINALS["key"],
    )
    modules = [
        m
        for m in list(sys.modules.values())
        if getattr(getattr(m, "strut", None), "__qualname__", "").startswith("install.")
    ]
    patched_strut = [m.strut for m in modules]
    for module in modules:
        module.strut = pangocache.ORIGINALS["strut"]
    try:
        yield
    finally:
        line_break.Layout.setup, line_break._font_style_cache_key = patched
        for module, fn in zip(modules, patched_strut, strict=True):
            module.strut = fn


def test_speed_patches_write_the_same_pdf(tmp_path: Path) -> None:
    assert install()
    from weasyprint.layout import block, inline, page, percent

    for module in (block, inline, page, percent):
        assert hasattr(module.resolve_percentages, "__wrapped__")  # every importer got the patch
    assert inline.strut is not pangocache.ORIGINALS["strut"]
    patched = _render(tmp_path)
    with _weasyprint_resolve():
        own_resolve = _render(tmp_path)
    with _weasyprint_setup():
        own_setup = _render(tmp_path)
    from weasyprint.layout import absolute

    with weasyprint_own(markers, absolute, "shrink_to_fit", "absolute_block"):
        own_markers = _render(tmp_path)
    assert absolute.shrink_to_fit is not markers.ORIGINALS["shrink_to_fit"]
    assert absolute.absolute_block is not markers.ORIGINALS["absolute_block"]
    assert own_resolve == patched
    assert own_setup == patched
    assert own_markers == patched


def test_style_key_is_a_hashable_tuple_equal_for_equal_styles() -> None:
    values = {
        "font_family": ("Noto Serif CJK SC", "serif"), "font_style": "normal", "font_stretch": "normal",
        "font_weight": 400, "font_variant_ligatures": "normal", "font_variant_position": "normal",
        "font_variant_caps": "normal", "font_variant_numeric": "normal", "font_variant_alternates": "normal",
        "font_variant_east_asian": "normal", "font_feature_settings": (("liga", 0),),
        "font_variation_settings": "normal", "font_language_override": "normal", "lang": "zh-CN",
        "font_size": 14.0, "line_height": 1.6,
    }  # fmt: skip
    key = pangocache.style_key(values, include_size=True)
    assert isinstance(key, tuple) and hash(key) == hash(pangocache.style_key(dict(values), include_size=True))
    assert key != pangocache.style_key({**values, "font_size": 15.0}, include_size=True)
    assert pangocache.style_key(values) != key
    assert isinstance(pangocache.style_key({**values, "font_feature_settings": [["liga", 0]]}), str)


def test_libraries_are_found_by_their_soname_as_find_library_would() -> None:
    from book.pdf.weasy import first_soname

    listed = ["libharfbuzz-subset.so.0", "libharfbuzz.so.0", "libpango-1.0.so.0", "libc.so.6", "libfoo.so"]
    assert first_soname(listed, "harfbuzz") == "libharfbuzz.so.0"  # not the subset library
    assert first_soname(listed, "harfbuzz-subset") == "libharfbuzz-subset.so.0"
    assert first_soname(listed, "pango-1.0") == "libpango-1.0.so.0"
    assert first_soname(listed, "foo") == "libfoo.so"
    # Windows' names and a library ldconfig does not list: no answer (and no gcc, no ld)
    assert first_soname(listed, "libpango-1.0-0") is None
    assert first_soname(listed, "harfbuzz-vector") is None
    assert first_soname(listed, "pango") is None  # libpango-1.0.so.0 is pango-1.0's


def test_fonts_copied_only_when_needed_write_the_same_pdf(tmp_path: Path) -> None:
    """book.pdf.weasy.fonts.font_data_when_needed (the EPUB's cover, `make cover`, the screen PDF):
    no font file copied into Python when a font is met, and the same bytes as WeasyPrint's own code."""
    from weasyprint.pdf import fonts as wfonts

    from book.pdf.layout import render_document, write_bytes
    from book.pdf.weasy.fonts import font_data_when_needed

    install()
    plain = write_bytes(render_document(HTML, [CSS], str(tmp_path) + "/")[0], {}, "seed")
    doc, _ = render_document(HTML, [CSS], str(tmp_path) + "/")  # its own fonts: a document keeps those it met
    copied: list[int] = []
    with font_data_when_needed():
        patched = wfonts.Font.__init__

        def init(self: object, *args: object) -> None:
            patched(self, *args)
            copied.append(len(self.file_content))  # type: ignore[attr-defined]

        wfonts.Font.__init__ = init  # type: ignore[method-assign]
        try:
            lazy = write_bytes(doc, {}, "seed")
        finally:
            wfonts.Font.__init__ = patched  # type: ignore[method-assign]
    assert lazy == plain
    assert len(copied) >= 3 and set(copied) == {0}  # serif, sans and Kai faces met, none copied whole


def test_a_repeated_marker_is_the_one_weasyprint_lays_out_with_its_own_element(tmp_path: Path) -> None:
    """Every outside marker of the document: the same geometry and text as WeasyPrint's own layout,
    and the element and style of its own list item."""
    from weasyprint.layout import absolute

    assert install()
    seen: list[tuple[object, ...]] = []
    patched = absolute.absolute_block

    def geometry(box: object) -> tuple[object, ...]:
        # Moved into place rather than laid out there: the same to within a rounding (1e-14 px), the
        # PDF the same bytes (above)
        own = tuple(
            round(v, 6) if isinstance(v, float) else v
            for v in (
                getattr(box, n, None) for n in ("position_x", "position_y", "width", "height", "text", "baseline")
            )
        )
        return (type(box).__name__, own, tuple(geometry(c) for c in getattr(box, "children", ())))

    def spy(context: object, box: object, *args: object) -> object:
        new_box, resume_at = patched(context, box, *args)
        if box.is_outside_marker:  # type: ignore[attr-defined]
            assert new_box.element is box.element and new_box.style is box.style  # type: ignore[attr-defined]
            seen.append(geometry(new_box))
        return new_box, resume_at

    absolute.absolute_block = spy
    try:
        _render(tmp_path)
        _render(tmp_path)  # the second time every marker is a repeat
    finally:
        absolute.absolute_block = patched
    ours = seen[: len(seen) // 2], seen[len(seen) // 2 :]
    seen.clear()
    with weasyprint_own(markers, absolute, "absolute_block"):
        absolute.absolute_block = spy_own = absolute.absolute_block

        def own_spy(context: object, box: object, *args: object) -> object:
            new_box, resume_at = spy_own(context, box, *args)
            if box.is_outside_marker:  # type: ignore[attr-defined]
                seen.append(geometry(new_box))
            return new_box, resume_at

        absolute.absolute_block = own_spy
        _render(tmp_path)
    assert len(seen) > 40 and ours[0] == seen and ours[1] == seen
