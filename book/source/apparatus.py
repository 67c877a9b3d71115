"""The apparatus options of `book.yaml` (`crossref:`, `index:`, `glossary:`) → BookConfig fields.

crossref: {page: true, lists: [figures, tables]}   # 图 1-1（第 12 页）; 插图目录, 表格目录
index: {front_matter: true}                         # or false: no 索引; default: one where terms are marked
glossary: glossary.yaml                             # term → definition: 术语表
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

LISTS = ("figures", "tables")


class Checker(Protocol):
    data: dict[str, Any]

    def err(self, key: str | None, message: str, hint: str = "") -> None: ...


def read(c: Checker, root: Path) -> dict[str, Any]:
    """The apparatus fields of BookConfig from `c.data`; each mistake an error at its key."""
    out: dict[str, Any] = {}
    crossref = c.data.get("crossref")
    if crossref is not None:
        if not isinstance(crossref, dict):
            c.err("crossref", "'crossref' must be a mapping", "write 'crossref: {page: true, lists: [figures]}'")
        else:
            page = crossref.get("page", False)
            if not isinstance(page, bool):
                c.err("crossref", "'crossref: page' must be true or false")
            out["crossref_pages"] = page is True
            wanted = crossref.get("lists", [])
            wanted = list(LISTS) if wanted is True else [] if wanted is False else wanted
            if not isinstance(wanted, list) or any(w not in LISTS for w in wanted):
                c.err("crossref", f"'crossref: lists' takes {', '.join(LISTS)}", "write 'lists: [figures, tables]'")
                wanted = []
            out["crossref_lists"] = tuple(wanted)
            for key in crossref:
                if key not in ("page", "lists"):
                    c.err("crossref", f"unknown key 'crossref: {key}'", "write 'page' or 'lists'")
    index = c.data.get("index")
    if isinstance(index, bool):
        out["index"] = index
    elif (
        isinstance(index, dict)
        and set(index) <= {"front_matter"}
        and isinstance(index.get("front_matter", False), bool)
    ):
        out["index_front_matter"] = bool(index.get("front_matter", False))
    elif index is not None:
        c.err("index", "'index' must be true, false or {front_matter: true}", "write 'index: {front_matter: true}'")
    glossary = c.data.get("glossary")
    if glossary is not None:
        path = root / str(glossary)
        if (
            not isinstance(glossary, str)
            or Path(glossary).is_absolute()
            or not path.resolve().is_relative_to(root.resolve())
        ):
            c.err(
                "glossary",
                "'glossary' must be the path of a YAML file inside the book",
                "write 'glossary: glossary.yaml'",
            )
        elif not path.is_file():
            c.err("glossary", f"glossary '{glossary}' not found", "check the path (relative to book.yaml)")
        else:
            out["glossary"] = path
    if out.get("index_front_matter") and "glossary" not in out:
        c.err("index", "'index: {front_matter: true}' maps the front matter through the glossary file",
              "add 'glossary: glossary.yaml' to book.yaml")  # fmt: skip
    return out
