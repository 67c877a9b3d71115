"""YAML text → data (safe, with its repeated keys), and the checker that collects a book.yaml's
problems, each at the line of the key it is about.

Shared by book.source.config and the modules that read one section of book.yaml for it
(book.source.entries, book.source.copyright), and by the other YAML files a book has (glossary).
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml

from book.errors import Problem
from book.text import XML_INVALID, key_line, xml_safe


class BookLoader(yaml.SafeLoader):
    """Safe YAML that never crashes on what authors write.

    A date-shaped value that is not a real date (`2025-13-45`) stays a string, so the validator can
    name its field and line instead of PyYAML raising a bare ValueError; repeated keys are recorded.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[str, int]] = []

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:  # type: ignore[override]
        # An alias is shared, not copied, when loaded, but everything that walks the data (the
        # config's hash) expands it: nine nested aliases of nine made a 1 KB file hang the build.
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, f"YAML aliases (*{event.anchor}) are not allowed; write the value out", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_yaml_timestamp(self, node: yaml.Node) -> Any:  # type: ignore[override]
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return self.construct_scalar(node)

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:  # type: ignore[override]
        seen: set[Any] = set()
        for key_node, _ in getattr(node, "value", []):
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    self.duplicates.append((key_node.value, key_node.start_mark.line + 1))
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


BookLoader.add_constructor("tag:yaml.org,2002:timestamp", BookLoader.construct_yaml_timestamp)
BookLoader.add_constructor("tag:yaml.org,2002:map", BookLoader.construct_yaml_map)


def load_yaml(text: str) -> tuple[Any, list[tuple[str, int]]]:
    """YAML text → (data, [(duplicate key, 1-based line)]); raises yaml.YAMLError on bad syntax."""
    loader = BookLoader(text)
    try:
        return loader.get_single_data(), loader.duplicates
    except RecursionError:
        raise yaml.YAMLError("nested too deeply") from None
    finally:
        loader.dispose()


@lru_cache(maxsize=1024)
def _load_yaml_once(text: str) -> tuple[Any, tuple[tuple[str, int], ...]]:
    data, duplicates = load_yaml(text)
    return data, tuple(duplicates)


def load_yaml_again(text: str) -> tuple[Any, list[tuple[str, int]]]:
    """`load_yaml` of a text this process may have read before: a long-running preview read every
    part's front matter on each edit (42 ms of a 30-chapter rebuild). The data is a copy."""
    data, duplicates = _load_yaml_once(text)
    return copy.deepcopy(data), list(duplicates)


def suggest(key: str, known: set[str] | list[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
    return f"did you mean '{close[0]}'?" if close else "remove it or check its spelling"


@dataclass
class Checker:
    """Collects the problems of one book.yaml, each at the line of the key it is about."""

    shown: str
    text: str
    data: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    divisions: list[str] = field(default_factory=list)  # the titles of `parts:`, once read

    def err(self, key: str | None, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.shown, key_line(self.text, key) if key else None, message, hint))

    def warn(self, line: int | None, message: str, hint: str = "") -> None:
        self.problems.append(Problem(self.shown, line, message, hint, "warning"))

    def text_value(self, key: str, default: str = "") -> str:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float, dt.date)):
            self.err(key, f"'{key}' must be text, not {type(value).__name__}", f'write {key}: "…"')
            return default
        text = value.isoformat() if isinstance(value, dt.date) else str(value)
        if XML_INVALID.search(text):
            self.warn(key_line(self.text, key), f"'{key}' contains control characters; they are removed",
                      "delete them from book.yaml")  # fmt: skip
            text = xml_safe(text)
        return text
