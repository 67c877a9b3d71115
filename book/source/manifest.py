"""Manifest stage: `Source` records + `BookConfig` → a typed, validated `Manifest`.

The manifest is the one source of truth between reading and output: the parts in reading order,
their validated front matter, labels (第八章, 附录A) and, once rendered, the counts measured from the
text. Every problem in every source is collected before the build stops.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from book.errors import BookError, Diagnostics
from book.locale import locale_for
from book.model import BookConfig, Division, Manifest, Meta, Part
from book.source import infer
from book.source.combine import read_combined
from book.source.labels import format_label
from book.source.read import Source, read_source
from book.text import XML_INVALID, xml_safe


@dataclass(frozen=True)
class FieldSpec:
    type: str  # "int" | "str" | "date" | "list"
    required: bool = False
    minimum: int | None = None
    maximum: int | None = None


CHAPTER_SCHEMA: dict[str, FieldSpec] = {
    "chapter_number": FieldSpec("int", required=True, minimum=1, maximum=999),
    "title": FieldSpec("str", required=True),
    "title_en": FieldSpec("str"),
    "period": FieldSpec("str"),
    "status": FieldSpec("str"),
    "word_count": FieldSpec("int", minimum=0),
    "key_events": FieldSpec("list"),
    "key_organizations": FieldSpec("list"),
    "technical_concepts": FieldSpec("list"),
    "anecdote_count": FieldSpec("int", minimum=0),
    "created_date": FieldSpec("date"),
    "last_updated": FieldSpec("date"),
    "id": FieldSpec("str"),  # `id: ch-x`: the label `@ch-x` refers to (book.parts.crossref)
}
ARTICLE_SCHEMA: dict[str, FieldSpec] = {
    "title": FieldSpec("str", required=True),
    "date": FieldSpec("date"),
    "author": FieldSpec("str"),
    "source": FieldSpec("str"),
    "url": FieldSpec("str"),
    "status": FieldSpec("str"),
    "id": FieldSpec("str"),  # `id: ch-x`: the label `@ch-x` refers to (book.parts.crossref)
}
STATUSES = ("draft", "review", "final", "published")


def _check_field(src: Source, key: str, spec: FieldSpec, value: Any, diag: Diagnostics) -> Any:
    line = src.key_lines.get(key, 2)
    if (
        isinstance(value, str)
        and XML_INVALID.search(value)
        or (isinstance(value, list) and any(isinstance(v, str) and XML_INVALID.search(v) for v in value))
    ):
        # YAML escapes ("\x08") put characters in values that no XHTML page may contain.
        diag.warn(src.path, line, f"'{key}' contains control characters; they are removed", "delete them")
        value = xml_safe(value) if isinstance(value, str) else [xml_safe(v) if isinstance(v, str) else v for v in value]
    hint_type = {"int": "a whole number", "str": "text", "date": "a date like 2025-10-17", "list": "a YAML list"}[
        spec.type
    ]
    shown = repr(value)
    bad = f"'{key}' must be {hint_type}, not {shown if len(shown) <= 60 else shown[:57] + '…'}"
    if spec.type == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            diag.error(src.path, line, bad, f"write {key}: 8")
            return None
        if spec.minimum is not None and value < spec.minimum:
            diag.error(
                src.path, line, f"'{key}' must be at least {spec.minimum}, not {value}", f"write {key}: {spec.minimum}"
            )
            return None
        if spec.maximum is not None and value > spec.maximum:
            diag.error(
                src.path, line, f"'{key}' must be at most {spec.maximum}, not {value}", f"write {key}: {spec.maximum}"
            )
            return None
        return value
    if spec.type == "str":
        if isinstance(value, (dt.date, int, float)) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            diag.error(src.path, line, bad, f'write {key}: "…"')
            return None
        if spec.required and not value.strip():
            diag.error(src.path, line, f"'{key}' is empty", f'write {key}: "…"')
            return None
        return value
    if spec.type == "date":
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                pass
        diag.error(src.path, line, bad, f"write {key}: 2025-10-17")
        return None
    if spec.type == "list":
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
            diag.error(src.path, line, bad, f"write {key}: [a, b]")
            return None
        return [str(v) for v in value]
    raise AssertionError(spec.type)


def validate_meta(src: Source, diag: Diagnostics, suggested: dict[str, Any] | None = None) -> dict[str, Any]:
    """The source's front matter checked against its schema; every problem is reported, none stops.

    A required field that front matter leaves out is an error whose hint is `suggested`'s value
    for it (computed from the file); a source without front matter gets those values instead.
    """
    schema = CHAPTER_SCHEMA if src.kind == "chapter" else ARTICLE_SCHEMA
    meta: dict[str, Any] = Meta()
    suggested = suggested or {}
    for key, spec in schema.items():
        if key not in src.meta or src.meta[key] is None:
            if not src.front_matter and key in suggested:
                meta[key] = suggested[key]
            elif spec.required:
                value = suggested.get(key, "…")
                shown = f'"{value}"' if isinstance(value, str) and any(c in value for c in ":#'\"") else value
                diag.error(src.path, 2, f"front matter lacks required field '{key}'", f"add '{key}: {shown}'")
            continue
        value = _check_field(src, key, spec, src.meta[key], diag)
        if value is not None:
            meta[key] = value
    for key in src.meta:
        if key in schema:
            continue
        close = difflib.get_close_matches(str(key), list(schema), n=1, cutoff=0.75)
        hint = f"did you mean '{close[0]}'?" if close else "it is kept in the manifest but not used"
        diag.warn(src.path, src.key_lines.get(str(key), 2), f"unknown front-matter key '{key}'", hint)
        try:
            meta[xml_safe(str(key))] = _jsonable(src.meta[key], [0])
        except ValueError:
            diag.error(src.path, src.key_lines.get(str(key), 2), f"front-matter value of '{key}' is too large or nested",
                       "shorten it")  # fmt: skip
    status = meta.get("status")
    if status is not None and status not in STATUSES:
        diag.warn(
            src.path, src.key_lines.get("status", 2), f"unknown status '{status}'", f"use one of {', '.join(STATUSES)}"
        )
    return meta


def _jsonable(value: Any, seen: list[int], depth: int = 0) -> Any:
    """A front-matter value as JSON data; YAML aliases can make a small file expand to billions of
    nodes (or loop), so the walk is bounded."""
    seen[0] += 1
    if seen[0] > 10_000 or depth > 50:
        raise ValueError("front-matter value too large")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {xml_safe(str(k)): _jsonable(v, seen, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v, seen, depth + 1) for v in value]
    if isinstance(value, str):
        return xml_safe(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return xml_safe(str(value))


def build_manifest(config: BookConfig, diag: Diagnostics) -> Manifest:
    """Read and validate every source; raise BookError listing every problem found."""
    sources: list[Source] = []
    division_of: dict[Path, int] = {}
    for spec in config.sources:
        try:
            sources.append(read_combined(spec, diag) if spec.files else read_source(spec, diag))
            division_of[spec.path] = spec.division
        except BookError as exc:
            diag.add(exc)
    chapters: list[Part] = []
    appendices: list[Part] = []
    matter: dict[str, list[Part]] = {"frontmatter": [], "backmatter": []}
    seen: dict[int, Source] = {}
    locale = locale_for(config.language)
    previous = 0  # the number of the chapter before, in book.yaml's order
    for src in sources:
        keep_number = src.kind == "chapter" and not config.chapter_label  # the heading numbers itself
        suggested: dict[str, Any] = {"title": infer.inferred_title(src.body, src.path, keep_number)}
        if src.kind == "chapter":
            # Without front matter a chapter follows the one before it in book.yaml; the hint for
            # front matter without a number prefers the number its file name gives.
            after = min(previous + 1, 999)
            named = infer.number_from_name(src.path)
            suggested["chapter_number"] = after if not src.front_matter or named is None else named
        meta = validate_meta(src, diag, suggested)
        if src.kind == "chapter" and isinstance(meta.get("chapter_number"), int):
            previous = meta["chapter_number"]
        if "title" not in meta:
            continue
        status = str(meta.get("status") or "final")
        if src.kind == "chapter":
            number = meta.get("chapter_number")
            if number is None:
                continue
            if number in seen:
                if src.front_matter:
                    diag.error(
                        src.path, src.key_lines.get("chapter_number", 2),
                        f"chapter_number {number} is also used by {seen[number].shown}",
                        "give each chapter its own number",
                    )  # fmt: skip
                else:
                    diag.error(
                        src.path, 1, f"this chapter follows chapter {number - 1} in book.yaml, so it would be "
                        f"chapter {number}, the number of {seen[number].shown}",
                        "reorder 'chapters:' in book.yaml, or start the file with front matter "
                        "giving its chapter_number",
                    )  # fmt: skip
                continue
            seen[number] = src
            chapters.append(
                Part(f"ch{number:02d}", "chapter", src.path, meta["title"], format_label(config.chapter_label, number),
                     number, meta, src.body, src.body_line, status, key_lines=dict(src.key_lines),
                     division=f"part{division_of[src.path]}" if division_of.get(src.path) else "",
                     segments=src.segments)
            )  # fmt: skip
        elif src.kind in matter:  # 序, 前言, 后记…: unnumbered, no label
            found = matter[src.kind]
            found.append(
                Part(f"{'fm' if src.kind == 'frontmatter' else 'bm'}{len(found) + 1}", src.kind, src.path,
                     meta["title"], "", None, meta, src.body, src.body_line, status,
                     key_lines=dict(src.key_lines), segments=src.segments)
            )  # fmt: skip
        else:
            letter = chr(ord("A") + len(appendices)) if len(appendices) < 26 else str(len(appendices) + 1)
            appendices.append(
                Part(f"app{letter.lower()}", "appendix", src.path, meta["title"], locale.appendix(letter), None,
                     meta, src.body, src.body_line, status, key_lines=dict(src.key_lines), segments=src.segments)
            )  # fmt: skip
    if not config.sources:
        diag.error(config.config_path, None, "the book has no chapters", "list them under 'chapters:' in book.yaml")
    diag.raise_if_errors()
    chapters.sort(key=lambda p: p.number or 0)
    divisions = [
        Division(f"part{i}", i, format_label(config.part_label, i), title)
        for i, title in enumerate(config.divisions, 1)
    ]
    return Manifest(config, matter["frontmatter"] + chapters + appendices + matter["backmatter"], divisions)
