"""WeasyPrint speed patch: a text layout's Pango set-up → taken from what an equal style set up before.

WeasyPrint 70 builds every `Layout` (each try at a line, each measure, each text drawn) from
nothing: a new Pango context, a new font description from the style's font properties, the
language looked up from its tag, the OpenType features formatted again; and `strut` (called for
every inline box of every line) keys its cache by `str()` of a 14-value tuple. On a chapter that
was a tenth of its layout. The patch keeps, per font configuration, one Pango context per
(direction, language) and one font description per set of font properties, and keys the strut
cache by the tuple itself, looked up before `strut`'s own imports. A context is never changed once
made (WeasyPrint sets it up only here) and Pango copies a font description into the layout, so each
layout is set up with the same values as before and the PDF is the same. Installed by `book.pdf.weasy.install()`. Idempotent.
"""

from __future__ import annotations

import sys
from typing import Any

_installed = False
ORIGINALS: dict[str, Any] = {}  # WeasyPrint's own functions, for the tests' comparison


def description_key(style: Any) -> tuple[Any, ...]:
    """The style's values `get_font_description` reads (weasyprint.text.fonts, 70.0)."""
    return (
        style["font_family"],
        style["font_style"],
        style["font_stretch"],
        style["font_weight"],
        style["font_size"],
        style["font_variant_caps"],
        style["font_variation_settings"],
    )


def features_key(style: Any) -> tuple[Any, ...]:
    """The style's values `Layout.setup` formats into OpenType features (weasyprint 70.0)."""
    return (
        style["font_kerning"],
        style["font_variant_ligatures"],
        style["font_variant_position"],
        style["font_variant_caps"],
        style["font_variant_numeric"],
        style["font_variant_alternates"],
        style["font_variant_east_asian"],
        style["font_feature_settings"],
    )


def style_key(style: Any, include_size: bool = False) -> Any:
    """`_font_style_cache_key` as a tuple (hashed, not printed); its string where a value is not
    hashable. Equal tuples print equal strings but for 1 == 1.0, which sets the same font."""
    key: Any = (
        style["font_family"],
        style["font_style"],
        style["font_stretch"],
        style["font_weight"],
        style["font_variant_ligatures"],
        style["font_variant_position"],
        style["font_variant_caps"],
        style["font_variant_numeric"],
        style["font_variant_alternates"],
        style["font_variant_east_asian"],
        style["font_feature_settings"],
        style["font_variation_settings"],
        style["font_language_override"],
        style["lang"],
    )
    if include_size:
        key = (key, style["font_size"], style["line_height"])
    try:
        hash(key)
    except TypeError:
        return str(key)
    return key


def install() -> None:
    global _installed
    if _installed:
        return
    from weasyprint.text import line_break
    from weasyprint.text.constants import LST_TO_ISO, PANGO_DIRECTION
    from weasyprint.text.ffi import FROM_UNITS, ffi, gobject, pango, unicode_to_char_p
    from weasyprint.text.fonts import font_features, get_font_description

    def caches(font_config: Any) -> tuple[dict[Any, Any], dict[Any, Any], dict[Any, Any]]:
        found = font_config.__dict__.get("book_pango")
        if found is None:
            found = font_config.__dict__["book_pango"] = ({}, {}, {})
        return found

    def context_for(style: Any, contexts: dict[Any, Any]) -> tuple[Any, Any]:
        """(the Pango context, the language) `Layout.setup` would make for `style`."""
        if style["font_language_override"] != "normal":
            tag = LST_TO_ISO.get(style["font_language_override"].lower(), style["font_language_override"])
        else:
            tag = style["lang"] or None
        key = (style["direction"], tag)
        found = contexts.get(key)
        if found is None:
            context = ffi.gc(pango.pango_font_map_create_context(style.font_config.font_map), gobject.g_object_unref)
            pango.pango_context_set_round_glyph_positions(context, False)
            pango.pango_context_set_base_dir(context, PANGO_DIRECTION[style["direction"]])
            if tag:
                lang_p, _ = unicode_to_char_p(tag)
                language = pango.pango_language_from_string(lang_p)
                pango.pango_context_set_language(context, language)
            else:
                language = pango.pango_language_get_default()
            found = contexts[key] = (context, language)
        return found

    def setup(self: Any, style: Any) -> None:
        self.style = style
        self.first_line_direction = 0
        contexts, descriptions, features_of = caches(style.font_config)
        pango_context, self.language = context_for(style, contexts)

        assert not isinstance(style["font_family"], str), "font_family should be a list"
        try:
            key: Any = description_key(style)
            font_description = descriptions.get(key)
        except TypeError:  # a value that is not hashable: made for this layout alone
            key, font_description = None, None
        if font_description is None:
            font_description = get_font_description(style)
            if key is not None:
                descriptions[key] = font_description
        self.layout = ffi.gc(pango.pango_layout_new(pango_context), gobject.g_object_unref)
        pango.pango_layout_set_auto_dir(self.layout, False)
        pango.pango_layout_set_font_description(self.layout, font_description)

        if style["text_decoration_line"] != "none":
            metrics = ffi.gc(
                pango.pango_context_get_metrics(pango_context, font_description, self.language),
                pango.pango_font_metrics_unref,
            )
            self.ascent = FROM_UNITS * pango.pango_font_metrics_get_ascent(metrics)
            self.underline_position = FROM_UNITS * pango.pango_font_metrics_get_underline_position(metrics)
            self.strikethrough_position = FROM_UNITS * pango.pango_font_metrics_get_strikethrough_position(metrics)
            self.underline_thickness = FROM_UNITS * pango.pango_font_metrics_get_underline_thickness(metrics)
            self.strikethrough_thickness = FROM_UNITS * pango.pango_font_metrics_get_strikethrough_thickness(metrics)
        else:
            self.ascent = None
            self.underline_position = None
            self.strikethrough_position = None

        values = features_key(style)
        try:
            features = features_of.get(values)
            cached = True
        except TypeError:
            features, cached = None, False
        if features is None:
            found = font_features(*values)
            features = ",".join(f"{name} {value}" for name, value in found.items()).encode() if found else b""
            if cached:
                features_of[values] = features
        if features:
            # WeasyPrint's own cache of the attribute, shared as it shares it; the list is the
            # layout's own (set_text adds to it)
            shared = style.font_config.font_features
            attr = shared.get(features)
            if attr is None:
                attr = shared[features] = pango.pango_attr_font_features_new(features)
            attr_list = pango.pango_attr_list_new()
            pango.pango_attr_list_insert(attr_list, attr)
            pango.pango_layout_set_attributes(self.layout, attr_list)

    original_strut = line_break.strut

    def strut(style: Any) -> tuple[float, float]:
        """`strut` with its cache looked up first (it imports two names on every call)."""
        if style["font_size"] == 0:
            return 0, 0
        found = style.font_config.strut_layouts.get(style_key(style, include_size=True))
        return found if found is not None else original_strut(style)

    ORIGINALS.update(setup=line_break.Layout.setup, key=line_break._font_style_cache_key, strut=original_strut)
    line_break.Layout.setup = setup
    line_break._font_style_cache_key = style_key
    for name, module in list(sys.modules.items()):
        if name.startswith("weasyprint.") and getattr(module, "strut", None) is original_strut:
            module.strut = strut  # type: ignore[attr-defined]
    _installed = True
