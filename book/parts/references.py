"""References stage: one reference-list line (APA-like) → a `Reference` entry, and entries → CSL-JSON.

Manuscripts write references as `Surname, I., Other, J., et al. (2023). Title. *Container*. URL`.
A line that does not follow that shape is kept verbatim (`parsed=False`) so nothing is ever lost;
the structures stage warns about it with its source line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

# Authors, then `(2023)` / `(2023a)` / `(n.d.)`, then the title up to the first `. ` (or `? `/`! `),
# an optional italic container, and an optional URL (with an optional "Retrieved from" lead-in).
ENTRY = re.compile(
    r"""^\s*
    (?P<authors>[^()]+?)\s*
    \(\s*(?P<year>\d{4}[a-z]?|n\.\s?d\.)\s*\)\s*\.?\s*
    (?P<title>.+?[.?!])
    (?:\s+\*(?P<container>[^*]+?)\*\s*[.,]?)?
    (?:\s*(?P<lead>(?:Retrieved\s+from|Available\s+at|URL)\s*:?)?\s*(?P<url>https?://\S+?))?
    \s*$""",
    re.X | re.S,
)
PERSON = re.compile(r"^(?P<family>[^,]+?),\s*(?P<given>(?:[A-Z][a-z]?\.[\s-]*)+)$")


@dataclass
class Reference:
    """One entry of a reference list; `raw` is the line as written (italics as `*…*`)."""

    raw: str
    line: int | None = None
    parsed: bool = False
    authors: list[str] = field(default_factory=list)
    et_al: bool = False
    authors_text: str = ""
    year: str = ""
    title: str = ""
    container: str = ""
    lead: str = ""
    url: str = ""
    id: str = ""

    def plain(self) -> str:
        """The entry's visible text as the template prints it (used to prove nothing is lost)."""
        if not self.parsed:
            return self.raw.replace("*", "")
        out = f"{self.authors_text} ({self.year}). {self.title}"
        if self.container:
            out += f" {self.container}."
        if self.url:
            out += f" {self.lead} {self.url}" if self.lead else f" {self.url}"
        return out

    @property
    def url_html(self) -> Markup:
        return url_with_breaks(self.url)

    @property
    def is_latin(self) -> bool:
        return not re.search(r"[\u3400-\u9fff]", self.raw)

    def csl(self) -> dict[str, Any]:
        """The entry as a CSL-JSON item (https://citeproc-js.readthedocs.io/en/latest/csl-json/)."""
        item: dict[str, Any] = {"id": self.id, "type": self.csl_type()}
        if not self.parsed:
            item["note"] = self.raw
            return item
        item["author"] = [_csl_name(a) for a in self.authors]
        if self.et_al:
            item["note"] = "et al."
        if self.year[:4].isdigit():
            item["issued"] = {"date-parts": [[int(self.year[:4])]]}
        item["title"] = self.title.rstrip(".")
        if self.container:
            item["container-title"] = self.container
        if self.url:
            item["URL"] = self.url
        return item

    def csl_type(self) -> str:
        c = self.container.lower()
        if "preprint" in c or "arxiv" in c:
            return "article"
        if "report" in c:
            return "report"
        if "blog" in c or (self.url and not self.container):
            return "post-weblog" if "blog" in c else "webpage"
        if re.search(r"\b(ICLR|NeurIPS|ICML|ACL|CVPR|EMNLP|AAAI)\b|conference|proceedings", self.container, re.I):
            return "paper-conference"
        return "article" if self.parsed else "document"


def _csl_name(name: str) -> dict[str, str]:
    m = PERSON.match(name.strip())
    if m:
        return {"family": m.group("family").strip(), "given": m.group("given").strip()}
    return {"literal": name.strip()}


def split_authors(text: str) -> tuple[list[str], bool]:
    """`Touvron, H., Lavril, T., et al.` → (["Touvron, H.", "Lavril, T."], True)."""
    text = text.strip().rstrip(",").strip()
    et_al = bool(re.search(r",?\s*et\s+al\.?$", text))
    text = re.sub(r",?\s*et\s+al\.?$", "", text).strip()
    # Split after each person's initials: `Surname, A. B., Next, C.` and `… & Last, D.`
    parts = re.split(r"(?<=\.)\s*,\s*(?:&\s*)?|\s+&\s+|\s+and\s+", text)
    names = [p.strip().rstrip(",").strip() for p in parts if p.strip()]
    if names and not any(PERSON.match(n) for n in names):
        # An organisation ("Meta AI.") is one literal author.
        names = [text.rstrip(".").strip() or text]
    return names, et_al


def parse_entry(raw: str, line: int | None = None) -> Reference:
    """Parse one entry; never raises — an entry that does not fit is returned with parsed=False."""
    ref = Reference(raw=raw, line=line)
    m = ENTRY.match(raw)
    if not m:
        return ref
    authors_text = m.group("authors").strip()
    title = m.group("title").strip()
    if not authors_text or not title or "*" in title or "*" in authors_text:
        return ref
    ref.authors, ref.et_al = split_authors(authors_text)
    ref.authors_text = authors_text
    ref.year = m.group("year")
    ref.title = title
    ref.container = (m.group("container") or "").strip()
    ref.lead = (m.group("lead") or "").strip()
    ref.url = (m.group("url") or "").rstrip(".,;")
    ref.parsed = bool(ref.authors)
    return ref


def url_with_breaks(url: str) -> Markup:
    """Escape a URL for display, with `<wbr/>` where a line may break (after `/`, before `.` etc.)."""
    out = []
    i = 0
    while i < len(url):
        ch = url[i]
        if ch == "/" and url[i : i + 2] == "//":
            out.append(escape("//") + Markup("<wbr/>"))
            i += 2
            continue
        if ch in ".-_?#&=" and i > 0:
            out.append(Markup("<wbr/>") + escape(ch))
        elif ch == "/":
            out.append(escape(ch) + Markup("<wbr/>"))
        else:
            out.append(escape(ch))
        i += 1
    return Markup("").join(out)


def to_csl_json(entries: list[Reference]) -> list[dict[str, Any]]:
    return [e.csl() for e in entries]


def csl_json_text(items: list[dict[str, Any]]) -> str:
    """CSL-JSON file content (an array of items), stable for reproducible builds."""
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"
