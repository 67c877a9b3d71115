"""Manifest stage: `Source` records + `BookConfig` → a typed, validated `Manifest`.

The manifest is the one source of truth between reading and output: the parts in reading order,
their validated front matter, labels (第八章, 附录A) and, once rendered, the counts measured from the
text. Every problem in every source is collected before the build stops.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from book import counts
from book.config import XML_INVALID, BookConfig, xml_safe
from book.errors import BookError, Diagnostics
from book.read import Source, read_source


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
}
ARTICLE_SCHEMA: dict[str, FieldSpec] = {
    "title": FieldSpec("str", required=True),
    "date": FieldSpec("date"),
    "author": FieldSpec("str"),
    "source": FieldSpec("str"),
    "url": FieldSpec("str"),
    "status": FieldSpec("str"),
}
STATUSES = ("draft", "review", "final", "published")


class Meta(dict):
    """Validated front matter; an optional field the source leaves out reads as None.

    Templates render with StrictUndefined (a typo in a template must fail), so `meta.title_en` on a
    chapter without a `title_en` must be None rather than an error.
    """

    def __missing__(self, key: str) -> None:
        return None


CN_DIGITS = "零一二三四五六七八九"


def chinese_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 18 → 十八, 25 → 二十五, 108 → 一百零八 (as chapter labels are written)."""
    if n < 10:
        return CN_DIGITS[n]
    if n < 20:
        return "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return CN_DIGITS[n // 10] + "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        tail = (
            ""
            if rest == 0
            else (
                "零" + CN_DIGITS[rest]
                if rest < 10
                else chinese_numeral(rest)
                if rest >= 20
                else "一" + chinese_numeral(rest)
            )
        )
        return CN_DIGITS[n // 100] + "百" + tail
    return str(n)


@dataclass
class Part:
    """One chapter or appendix, in reading order."""

    id: str
    kind: str  # "chapter" | "appendix"
    source: Path
    title: str
    label: str  # 第八章 / 附录A
    number: int | None
    meta: dict[str, Any]
    body: str
    body_line: int
    status: str = "final"
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def title_en(self) -> str:
        return str(self.meta.get("title_en") or "")


@dataclass
class Manifest:
    config: BookConfig
    parts: list[Part]

    @property
    def chapters(self) -> list[Part]:
        return [p for p in self.parts if p.kind == "chapter"]

    @property
    def appendices(self) -> list[Part]:
        return [p for p in self.parts if p.kind == "appendix"]

    def modified(self) -> str:
        """The newest date among the parts, for reproducible timestamps."""
        dates = [
            v for p in self.parts for k, v in p.meta.items()
            if k in ("last_updated", "date", "created_date") and isinstance(v, str)
        ]  # fmt: skip
        return max(dates) if dates else (self.config.date or "1970-01-01")

    def to_json(self) -> str:
        c = self.config
        data = {
            "title": c.title,
            "subtitle": c.subtitle,
            "authors": list(c.authors),
            "language": c.language,
            "identifier": c.identifier,
            "publisher": c.publisher,
            "date": c.date,
            "rights": c.rights,
            "slug": c.slug,
            "parts": [
                {
                    "id": p.id,
                    "kind": p.kind,
                    "source": str(p.source.relative_to(c.root)),
                    "label": p.label,
                    "title": p.title,
                    "number": p.number,
                    "status": p.status,
                    "front_matter": p.meta,
                    "counts": p.counts,
                    "claims": counts.claims(p.meta),
                    "mismatches": [m for _, _, m in counts.mismatches(p.meta, p.counts).values()],
                    "trim_after": next((s.trim_after for s in c.sources if s.path == p.source), None),
                }
                for p in self.parts
            ],
        }
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


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


def validate_meta(src: Source, diag: Diagnostics) -> dict[str, Any]:
    schema = CHAPTER_SCHEMA if src.kind == "chapter" else ARTICLE_SCHEMA
    meta: dict[str, Any] = Meta()
    for key, spec in schema.items():
        if key not in src.meta or src.meta[key] is None:
            if spec.required:
                diag.error(src.path, 2, f"front matter lacks required field '{key}'", f"add '{key}: …'")
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
    for spec in config.sources:
        try:
            sources.append(read_source(spec, diag))
        except BookError as exc:
            diag.add(exc)
    chapters: list[Part] = []
    appendices: list[Part] = []
    seen: dict[int, Source] = {}
    for src in sources:
        meta = validate_meta(src, diag)
        if "title" not in meta:
            continue
        status = str(meta.get("status") or "final")
        if src.kind == "chapter":
            number = meta.get("chapter_number")
            if number is None:
                continue
            if number in seen:
                diag.error(
                    src.path, src.key_lines.get("chapter_number", 2),
                    f"chapter_number {number} is also used by {seen[number].shown}",
                    "give each chapter its own number",
                )  # fmt: skip
                continue
            seen[number] = src
            chapters.append(
                Part(f"ch{number:02d}", "chapter", src.path, meta["title"], f"第{chinese_numeral(number)}章",
                     number, meta, src.body, src.body_line, status)
            )  # fmt: skip
        else:
            letter = chr(ord("A") + len(appendices)) if len(appendices) < 26 else str(len(appendices) + 1)
            appendices.append(
                Part(f"app{letter.lower()}", "appendix", src.path, meta["title"], f"附录{letter}", None,
                     meta, src.body, src.body_line, status)
            )  # fmt: skip
    if not config.sources:
        diag.error(config.config_path, None, "the book has no chapters", "list them under 'chapters:' in book.yaml")
    diag.raise_if_errors()
    chapters.sort(key=lambda p: p.number or 0)
    return Manifest(config, chapters + appendices)
