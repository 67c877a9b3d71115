"""Fonts stage: rendered parts + stylesheets → subset CJK fonts (OpenType) and their @font-face CSS.

Debian ships the Noto CJK faces as `.ttc` collections, which are not an EPUB font type: the
Simplified Chinese face is taken out of the collection and cut down to the characters that the
book's text, styled in that family, actually uses. Which text uses which family is read from the
stylesheets (the first family of each `font-family` rule, applied to the matched elements and
everything inside them), so a book with other styles gets the right subsets too. A font whose OS/2
`fsType` forbids embedding or subsetting stops the build with a clear message.

Each subset is cached under a key made of the sorted character set, the font file's content and the
face index.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cssselect2
import tinycss2
from fontTools.ttLib import TTFont
from lxml import etree

from book.engine.cache import Cache, digest, stat_key
from book.errors import error
from book.pdf.subset import hb_tag

XHTML_NS = "http://www.w3.org/1999/xhtml"


@dataclass(frozen=True)
class FaceSpec:
    """A face the EPUB embeds: the CSS family it stands for and how fontconfig finds it."""

    family: str  # as written in the stylesheets
    weight: str  # "normal" | "bold"
    pattern: str  # fontconfig pattern of the face on this system
    name: str  # ASCII file stem inside the EPUB
    style: str = "normal"  # "normal" | "italic"


# The faces book.css asks for first; other families (emoji) fall back to the reader's fonts.
FACES: tuple[FaceSpec, ...] = (
    FaceSpec("Noto Serif CJK SC", "normal", "Noto Serif CJK SC:style=Regular", "NotoSerifCJKsc-Regular"),
    FaceSpec("Noto Sans CJK SC", "bold", "Noto Sans CJK SC:style=Bold", "NotoSansCJKsc-Bold"),
    FaceSpec("LXGW WenKai", "normal", "LXGW WenKai:style=Regular", "LXGWWenKai-Regular"),
    # Code and identifiers: the listings' monospace face, cut to the characters they use.
    FaceSpec("Noto Sans Mono CJK SC", "normal", "Noto Sans Mono CJK SC:style=Regular", "NotoSansMonoCJKsc-Regular"),
    # Latin matter the styles set in Noto Sans / Noto Serif Italic (English subtitles, journal names)
    # and the monochrome symbols emoji become (book.typography.emoji): real faces, not the reader's.
    FaceSpec("Noto Sans", "normal", "Noto Sans:style=Regular", "NotoSans-Regular"),
    FaceSpec("Noto Serif", "normal", "Noto Serif:style=Italic", "NotoSerif-Italic", "italic"),
    FaceSpec("Noto Sans Symbols2", "normal", "Noto Sans Symbols2:style=Regular", "NotoSansSymbols2-Regular"),
    # The Hei set at normal weight (placeholders, the publisher's line): its own face, or a reader
    # given only the bold one prints that text bold.
    FaceSpec("Noto Sans CJK SC", "normal", "Noto Sans CJK SC:style=Regular", "NotoSansCJKsc-Regular"),
)
# Elements a reading system sets bold with no stylesheet asking (the HTML standard's rendering rules).
BOLD_BY_DEFAULT = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "strong", "b", "th"})


def faces_for(region: str) -> tuple[FaceSpec, ...]:
    """FACES for a locale's region (SC, TC, HK): the same collections' Traditional faces for TC/HK."""
    if region == "SC":
        return FACES
    return tuple(
        FaceSpec(
            f.family.replace(" SC", f" {region}"),
            f.weight,
            f.pattern.replace(" SC:", f" {region}:"),
            f.name.replace("CJKsc", f"CJK{region.lower()}"),
            f.style,
        )  # fmt: skip
        for f in FACES
    )


# fsType bits (OpenType OS/2): 0x0002 restricted licence, 0x0100 no subsetting, 0x0200 bitmap only.
FSTYPE_RESTRICTED = 0x0002
FSTYPE_NO_SUBSETTING = 0x0100
FSTYPE_BITMAP_ONLY = 0x0200


@dataclass
class EmbeddedFont:
    """One subset face as it goes into the EPUB."""

    spec: FaceSpec
    href: str  # fonts/<name>.otf
    data: bytes
    characters: int  # characters of the book this face was asked to cover
    glyphs: int  # glyphs in the subset (with .notdef and glyphs reached through layout features)
    source: Path
    index: int

    @property
    def media_type(self) -> str:
        return "font/otf"


@lru_cache(maxsize=16)
def hb_version() -> str:
    from importlib import metadata

    return metadata.version("uharfbuzz")


@lru_cache(maxsize=16)
def locate(pattern: str, family: str) -> tuple[Path, int]:
    """The font file and face index fontconfig resolves `pattern` to; the family must match."""
    from book.engine.fontmatch import match

    found = match(pattern)
    if found is None:
        raise error("fonts", None, "fontconfig not found (no libfontconfig, no fc-match)", "install fontconfig")
    path, index, families = found.file, found.index, found.families
    if family not in families:
        raise error(pattern, None, f"font '{family}' is not installed (fontconfig offers {families[0]})",
                    "run `make sysdeps` (fonts-noto-cjk, fonts-lxgw-wenkai)")  # fmt: skip
    return path, index


@lru_cache(maxsize=32)
def _font_digest(path: Path, stat: str) -> str:
    """The font file's content hash, once per version of the file (`stat`: its size and mtime): the
    seven faces are 95 MB, hashed again on every EPUB build (75 ms of a preview's rebuild)."""
    return digest(path)


def check_embeddable(font: TTFont, where: str) -> None:
    """Fail with a clear message when the font's licence bits forbid embedding a subset."""
    fs_type = font["OS/2"].fsType if "OS/2" in font else 0
    reasons = []
    if fs_type & FSTYPE_RESTRICTED:
        reasons.append("restricted-licence embedding (fsType bit 1)")
    if fs_type & FSTYPE_NO_SUBSETTING:
        reasons.append("no subsetting (fsType bit 8)")
    if fs_type & FSTYPE_BITMAP_ONLY:
        reasons.append("bitmap-only embedding (fsType bit 9)")
    if reasons:
        raise error(where, None, f"the font's licence forbids {', '.join(reasons)} (fsType 0x{fs_type:04x})",
                    "choose another font for the EPUB")  # fmt: skip


def subset_font(path: Path, index: int, text: str) -> tuple[bytes, int]:
    """An OpenType subset of face `index` of `path` covering `text` (and its layout alternates).

    HarfBuzz's subsetter (uharfbuzz) rather than fontTools': the same closure over the layout
    features in 0.1 s instead of about 2 s per CJK face, so a clean build does not wait for it.
    """
    import uharfbuzz as hb

    check_embeddable(TTFont(str(path), fontNumber=index, lazy=True), f"{path.name}#{index}")
    face = hb.Face(hb.Blob.from_file_path(str(path)), index)
    inp = hb.SubsetInput()
    inp.unicode_set.update(ord(c) for c in text)
    # The face is already the SC one: `locl` would only pull in the JP/KR/TC glyph variants.
    inp.layout_feature_tag_set.discard(hb_tag("locl"))
    inp.name_id_set.invert()  # every name record, in every language (licence, designer, …)
    inp.name_lang_id_set.invert()
    inp.flags = hb.SubsetFlags.NOTDEF_OUTLINE
    out = hb.subset(face, inp)
    if out is None:
        raise error(f"{path.name}#{index}", None, "HarfBuzz could not subset this font", "choose another font")
    return bytes(out.blob.data), out.glyph_count


def _first_family(value: list) -> str | None:
    for token in value:
        if token.type == "string":
            return token.value
        if token.type == "ident":
            words = []
            for t in value[value.index(token) :]:
                if t.type == "literal" and t.value == ",":
                    break
                if t.type == "ident":
                    words.append(t.value)
            return " ".join(words)
    return None


def _weight(value: list) -> str | None:
    """`font-weight`'s value as the face it picks: "bold", "normal", or None (inherit, unknown)."""
    for token in value:
        if token.type == "ident":
            name = token.lower_value
            return "bold" if name in ("bold", "bolder") else "normal" if name in ("normal", "lighter") else None
        if token.type == "number":
            return "bold" if token.value >= 600 else "normal"
    return None


@lru_cache(maxsize=4)  # a long-running preview parsed the same stylesheets again on every edit
def _stylesheet_rules(css_texts: tuple[str, ...]) -> tuple[cssselect2.Matcher, frozenset[str]]:
    """A matcher from selectors to ("family", the first family) or ("weight", …) they set, and the
    strings of `content:` rules."""
    matcher = cssselect2.Matcher()
    generated: set[str] = set()
    for css in css_texts:
        for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
            if rule.type != "qualified-rule":
                continue
            for decl in tinycss2.parse_blocks_contents(rule.content, skip_comments=True, skip_whitespace=True):
                if decl.type != "declaration":
                    continue
                if decl.lower_name == "content":
                    generated.update(t.value for t in decl.value if t.type == "string")
                if decl.lower_name == "font-family":
                    payload = ("family", _first_family(decl.value))
                elif decl.lower_name == "font-weight":
                    payload = ("weight", _weight(decl.value))
                else:
                    continue
                if not payload[1]:
                    continue
                try:
                    selectors = cssselect2.compile_selector_list(rule.prelude)
                except cssselect2.SelectorError:
                    continue
                for sel in selectors:
                    matcher.add_selector(sel, payload)
    return matcher, frozenset(generated)


def characters_by_family(
    bodies: Iterable[str], css_texts: Iterable[str], cache: Cache | None = None
) -> dict[str, set[str]]:
    """For each family named first in a `font-family` rule, the characters of the text it styles.

    `bodies` are XHTML documents or body fragments.
    Over-approximates on purpose (a descendant that switches family still counts for its
    ancestors' family): a subset one glyph too large is harmless, one glyph short shows tofu.
    With a cache, each body's characters are kept by its text and the stylesheets': matching the
    selectors is most of an EPUB's packaging time, and an edit changes one body.
    """
    chars: dict[str, set[str]] = {}
    for (family, _), found in characters_by_face(bodies, css_texts, cache).items():
        chars.setdefault(family, set()).update(found)
    return chars


def characters_by_face(
    bodies: Iterable[str], css_texts: Iterable[str], cache: Cache | None = None
) -> dict[tuple[str, str], set[str]]:
    """As characters_by_family, by (family, "normal" | "bold"): the weight each text is set in."""
    css_texts, bodies = list(css_texts), list(bodies)
    if cache is None:
        return _characters(bodies, css_texts)
    chars: dict[tuple[str, str], set[str]] = {}
    css_key = digest("font-chars-css-2", *css_texts)
    seen: dict[tuple[str, str, str], dict[tuple[str, str], set[str]]] = {}
    for body in bodies:
        one = _HOT.get((str(cache.root), css_key, body))
        if one is None:
            one = cache.memo("fontchars", digest(css_key, body), lambda b=body: _characters([b], css_texts))
        seen[(str(cache.root), css_key, body)] = one
        for face, found in one.items():
            chars.setdefault(face, set()).update(found)
    # This process's bodies, kept for its next build (the preview's): an edit changes one, and
    # hashing and loading the others from the cache was 40 ms of a 30-chapter rebuild.
    _HOT.clear()
    _HOT.update(seen)
    cache.trim("fontchars", keep=4 * len(bodies) + 16)  # the current bodies and a few edits back
    return chars


# (cache folder, stylesheets' digest, body) → its characters by face, for this process's last build
_HOT: dict[tuple[str, str, str], dict[tuple[str, str], set[str]]] = {}


def _characters(bodies: Iterable[str], css_texts: list[str]) -> dict[tuple[str, str], set[str]]:
    """Each text node counts for every family its element or an ancestor is matched with (a
    descendant that switches family still counts for its ancestors' family), in its element's
    weight: the last matching `font-weight` by specificity, else the parent's, else HTML's default."""
    matcher, generated = _stylesheet_rules(tuple(css_texts))
    texts: dict[tuple[str, str], list[str]] = {}  # the text of each face, joined and split once at the end
    for body in bodies:
        # Whole XHTML documents as they are; body fragments wrapped into one.
        doc = body if body.lstrip().startswith(("<?xml", "<!DOCTYPE", "<html")) else (
            f'<html xmlns="{XHTML_NS}" xmlns:epub="http://www.idpf.org/2007/ops"><body>{body}</body></html>'
        )  # fmt: skip
        root = etree.fromstring(doc.encode("utf-8"), etree.XMLParser(resolve_entities=False, huge_tree=True))
        wrapper = cssselect2.ElementWrapper.from_xml_root(root)
        state: dict[int, tuple[frozenset[str], str]] = {}  # element → (families so far, weight)
        for el in wrapper.iter_subtree():
            node = el.etree_element
            families, weight = state.get(id(node.getparent()), (frozenset(), "normal"))
            tag = node.tag
            if isinstance(tag, str) and tag.rpartition("}")[2] in BOLD_BY_DEFAULT:
                weight = "bold"
            matches = matcher.match(el)
            if matches:
                matches = sorted(matches, key=lambda m: m[:2])  # (specificity, order): the last wins
                families = families | {value for *_, (what, value) in matches if what == "family"}
                weight = next(  # a ::before's weight is its own, not the element's
                    (value for _, _, pseudo, (what, value) in reversed(matches) if what == "weight" and pseudo is None),
                    weight,
                )
            state[id(node)] = (families, weight)
            if not families:
                continue
            own = (node.text or "") + "".join(child.tail or "" for child in node)
            for fam in families:
                texts.setdefault((fam, weight), []).append(own)
    extra = {c for s in generated for c in s if not c.isspace()}
    chars: dict[tuple[str, str], set[str]] = {}
    for face, found in texts.items():
        chars[face] = {c for c in "".join(found) if not c.isspace()} | extra
    return chars


def embed_fonts(
    bodies: Iterable[str], css_texts: Iterable[str], cache: Cache, faces: tuple[FaceSpec, ...] = FACES
) -> list[EmbeddedFont]:
    """Subset every face that styles some of the book's text; faces styling nothing are left out."""
    chars = characters_by_face(list(bodies), list(css_texts), cache)
    weights = {(f.family, f.style): set() for f in faces}
    for f in faces:
        weights[(f.family, f.style)].add(f.weight)
    fonts = []
    for spec in faces:
        if len(weights[(spec.family, spec.style)]) > 1:  # the family's text in this weight only
            found = chars.get((spec.family, spec.weight), set())
        else:  # its only face: every weight's text (a reader emboldens what it must)
            found = set().union(*(v for (fam, _), v in chars.items() if fam == spec.family))
        text = "".join(sorted(found))
        if not text:
            continue
        path, index = locate(spec.pattern, spec.family)
        key = digest("font-subset-2", text, _font_digest(path, stat_key(path)), str(index), hb_version())
        data, glyphs = cache.memo("fonts", key, lambda p=path, i=index, t=text: subset_font(p, i, t))
        fonts.append(EmbeddedFont(spec, f"fonts/{spec.name}.otf", data, len(text), glyphs, path, index))
    return fonts


def font_face_css(fonts: Iterable[EmbeddedFont], css_dir: str = "styles") -> str:
    """@font-face rules naming the subsets after the families the stylesheets already ask for.

    Always written (possibly with no rule) so every document can link it whatever the book uses.
    """
    depth = "../" * (css_dir.count("/") + 1)
    rules = []
    for f in fonts:
        rules.append(
            f'@font-face {{ font-family: "{f.spec.family}"; font-weight: {f.spec.weight}; font-style: {f.spec.style}; '
            f'src: url("{depth}{f.href}") format("opentype"); }}'
        )
    return "/* Generated: subsets of the book's CJK faces, embedded in the EPUB. */\n" + "\n".join(rules) + "\n"
