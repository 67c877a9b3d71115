"""Unit and property tests for the reference-list parser and its CSL-JSON export."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from book.parts.references import parse_entry, split_authors, to_csl_json, url_with_breaks
from tests.conftest import ROOT


def sample_entries() -> list[str]:
    text = (ROOT / "seeds" / "08-meta-open-source.md").read_text(encoding="utf-8")
    block = text.split("**参考文献**", 1)[1].split("\n")[1:]
    return [line[2:] for line in block if line.startswith("- ")]


def words(text: str) -> list[str]:
    return re.findall(r"\w", text)


def test_every_sample_entry_parses() -> None:
    entries = [parse_entry(raw) for raw in sample_entries()]
    assert len(entries) == 8
    assert all(e.parsed for e in entries)
    first = entries[0]
    assert first.authors == ["Touvron, H.", "Lavril, T.", "Izacard, G."] and first.et_al
    assert first.year == "2023"
    assert first.title.startswith("LLaMA: Open and Efficient")
    assert first.container == "arXiv preprint"
    assert first.url == "https://arxiv.org/abs/2302.13971"
    blog = entries[-1]
    assert blog.lead == "Retrieved from" and blog.url.startswith("https://about.fb.com/")


def test_organisation_author_and_ampersand() -> None:
    assert split_authors("Meta AI.") == (["Meta AI"], False)
    names, et_al = split_authors("Dettmers, T., Pagnoni, A., Holtzman, A., & Zettlemoyer, L.")
    assert names == ["Dettmers, T.", "Pagnoni, A.", "Holtzman, A.", "Zettlemoyer, L."] and not et_al


def test_csl_json_items() -> None:
    entries = [parse_entry(raw) for raw in sample_entries()]
    for i, e in enumerate(entries):
        e.id = f"ch08-ref{i + 1}"
    items = to_csl_json(entries)
    first = items[0]
    assert first["id"] == "ch08-ref1" and first["type"] == "article"
    assert first["author"][0] == {"family": "Touvron", "given": "H."}
    assert first["issued"] == {"date-parts": [[2023]]}
    assert first["title"] == "LLaMA: Open and Efficient Foundation Language Models"
    assert first["container-title"] == "arXiv preprint" and first["URL"] == "https://arxiv.org/abs/2302.13971"
    assert items[2]["author"] == [{"literal": "Meta AI"}] and items[2]["type"] == "report"
    assert items[5]["type"] == "paper-conference"


def test_unparsed_entry_is_kept_verbatim() -> None:
    e = parse_entry("维基百科：LLaMA 词条，2024 年访问")
    assert not e.parsed and e.plain() == "维基百科：LLaMA 词条，2024 年访问"
    assert to_csl_json([e])[0]["note"] == e.raw


def test_url_breaks_only_add_break_opportunities() -> None:
    url = "https://about.fb.com/news/2023/07/open-source-ai?x=1&y=2"
    marked = str(url_with_breaks(url))
    assert "<wbr/>" in marked
    assert marked.replace("<wbr/>", "").replace("&amp;", "&") == url


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_parses_without_crash_and_loses_nothing(text: str) -> None:
    e = parse_entry(text)
    assert words(e.plain()) == words(text.replace("*", ""))
    to_csl_json([e])


@settings(max_examples=200, deadline=None)
@given(
    authors=st.lists(
        st.tuples(st.from_regex(r"[A-Z][a-z]{1,10}", fullmatch=True), st.from_regex(r"[A-Z]\.", fullmatch=True)),
        min_size=1, max_size=4,
    ),
    year=st.integers(1900, 2099),
    title=st.from_regex(r"[A-Z][A-Za-z0-9 :,-]{2,40}", fullmatch=True),
    container=st.one_of(st.none(), st.from_regex(r"[A-Z][A-Za-z ]{2,20}", fullmatch=True)),
    url=st.one_of(st.none(), st.from_regex(r"https://[a-z]{3,10}\.org/[a-z0-9/]{1,20}", fullmatch=True)),
)  # fmt: skip
def test_well_formed_entries_parse_into_their_fields(authors, year, title, container, url) -> None:
    author_text = ", ".join(f"{fam}, {ini}" for fam, ini in authors)
    raw = f"{author_text} ({year}). {title.strip()}."
    if container:
        raw += f" *{container.strip()}*."
    if url:
        raw += f" {url}"
    e = parse_entry(raw)
    assert e.parsed, raw
    assert e.year == str(year)
    assert len(e.authors) == len(authors)
    assert (e.url or None) == (url.rstrip(".") if url else None)
    if container:
        assert e.container == container.strip()
    assert words(e.plain()) == words(raw.replace("*", ""))
