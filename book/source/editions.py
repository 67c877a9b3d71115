"""Editions: a book in one script + an `editions:` tag → the same book in the other script, through OpenCC.

One manuscript gives a Mainland and a Taiwan (or Hong Kong) edition. OpenCC converts phrase by
phrase, not character by character (软件 → 軟體, 鼠标 → 滑鼠 with `s2twp`), which is why it is used
rather than a character table. The text, titles, front matter and book.yaml's printed fields are
converted; newlines are kept, so every `path:line` still points at the manuscript as written.
Each edition is built into its own folder, `build/<tag>/`, with its own cache and record.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Any

from book.locale import locale_for
from book.model import BookConfig, Manifest

TAGS = ("zh-Hans", "zh-Hant", "zh-TW", "zh-HK")


def opencc_config(source: str, target: str) -> str | None:
    """The OpenCC conversion from the book's language to an edition's (None: the same script)."""
    src, dst = locale_for(source), locale_for(target)
    if src.tag == dst.tag and target.lower() != "zh-tw":
        return None
    if dst.tag == "zh-Hans":
        return "tw2sp" if source.lower() == "zh-tw" else "hk2s" if src.tag == "zh-HK" else "t2s"
    if src.tag != "zh-Hans":
        return None
    return {"zh-tw": "s2twp", "zh-hk": "s2hk"}.get(target.lower(), "s2t")


def parse_editions(raw: Any, language: str) -> tuple[tuple[str, ...], list[tuple[str, str]]]:
    """`editions:` of book.yaml → (the tags, [(problem, hint)])."""
    tags = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else [] if raw is None else None
    if tags is None or not all(isinstance(t, str) for t in tags):
        return (), [("'editions' must be a list of languages", "write 'editions: [zh-TW]'")]
    found, problems = [], []
    for tag in tags:
        known = next((t for t in TAGS if t.lower() == tag.strip().lower()), None)
        if known is None:
            problems.append((f"unknown edition '{tag}'", f"use one of {', '.join(TAGS)}"))
        elif opencc_config(language, known) is None:
            problems.append((f"edition '{tag}' is in the book's own script ({language})",
                             "name the other script, e.g. zh-TW for a zh-Hans book"))  # fmt: skip
        else:
            found.append(known)
    return tuple(found), problems


@lru_cache(maxsize=8)
def _converter(name: str) -> Any:
    import opencc

    return opencc.OpenCC(name)


def convert_text(text: str, name: str) -> str:
    return _converter(name).convert(text)


def _convert(value: Any, name: str) -> Any:
    if isinstance(value, str):
        return convert_text(value, name)
    if isinstance(value, list):
        return [_convert(v, name) for v in value]
    if isinstance(value, tuple):
        return tuple(_convert(v, name) for v in value)
    return value


def edition(config: BookConfig, manifest: Manifest, tag: str) -> tuple[BookConfig, Manifest]:
    """The book as its `tag` edition: converted text, the edition's language and labels."""
    name = opencc_config(config.language, tag)
    if name is None:
        return dataclasses.replace(config, language=tag), manifest
    printed = ("title", "subtitle", "authors", "publisher", "rights", "edition", "blurb", "price", "divisions")
    changes = {key: _convert(getattr(config, key), name) for key in printed}
    converted = dataclasses.replace(config, language=tag, **changes)
    parts = []
    for p in manifest.parts:
        meta = type(p.meta)({k: _convert(v, name) if k != "title_en" else v for k, v in p.meta.items()})
        parts.append(dataclasses.replace(p, title=convert_text(p.title, name), label=convert_text(p.label, name), meta=meta,
                                         body=convert_text(p.body, name)))  # fmt: skip
    divisions = [dataclasses.replace(d, title=convert_text(d.title, name), label=convert_text(d.label, name))
                 for d in manifest.divisions]  # fmt: skip
    return converted, Manifest(converted, parts, divisions)
