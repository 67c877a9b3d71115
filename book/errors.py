"""Diagnostics: user-fixable problems become one-line messages, collected before stopping.

A `BookError` is a problem the user can fix (bad front matter, a missing file); the CLI prints it as
`path:line: message — hint` and exits non-zero without a traceback. Anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One finding about a source, positioned so an editor can jump to it."""

    path: str
    line: int | None
    message: str
    hint: str = ""
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        text = f"{where}: {self.severity}: {self.message}"
        return f"{text} — {self.hint}" if self.hint else text


class BookError(Exception):
    """One or more user-fixable problems; the build stops."""

    def __init__(self, problems: Problem | list[Problem]):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def error(path: str | Path, line: int | None, message: str, hint: str = "") -> BookError:
    return BookError(Problem(display_path(path), line, message, hint))


def display_path(path: str | Path) -> str:
    """A path as the user would type it: relative to the working folder when inside it; an output
    still in the build's staging folder (`<out>/.staging-*/name`) under its final name."""
    p = Path(path)
    if p.parent.name.startswith(".staging-"):
        p = p.parent.parent / p.name
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


@dataclass
class Diagnostics:
    """Collects problems across all sources so a build reports everything wrong at once."""

    strict: bool = False
    problems: list[Problem] = field(default_factory=list)
    echo: bool = True

    def warn(self, path: str | Path, line: int | None, message: str, hint: str = "") -> None:
        p = Problem(display_path(path), line, message, hint, "warning")
        if p in self.problems:
            return
        self.problems.append(p)
        # Under --strict a warning is reported once, as an error, when the build stops.
        if self.echo and not self.strict:
            print(p, file=sys.stderr)

    def error(self, path: str | Path, line: int | None, message: str, hint: str = "") -> None:
        self.problems.append(Problem(display_path(path), line, message, hint, "error"))

    def add(self, exc: BookError) -> None:
        self.problems.extend(exc.problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def export(self, since: int = 0) -> list[dict[str, Any]]:
        """The problems found since the `since`-th, as data another process or a later build can
        `replay` (paths made absolute, so a replay from another working folder shows the right path)."""
        cwd = Path.cwd()
        out = []
        for p in self.problems[since:]:
            d = dataclasses.asdict(p)
            path = Path(p.path)
            d["path"] = str(path if path.is_absolute() else cwd / path)
            out.append(d)
        return out

    def replay(self, problems: list[dict[str, Any]]) -> None:
        """Report problems found by a worker or an earlier build as if found now (echoed, deduplicated)."""
        for d in problems:
            if d.get("severity") == "warning":
                self.warn(d["path"], d.get("line"), d["message"], d.get("hint", ""))
            else:
                self.error(d["path"], d.get("line"), d["message"], d.get("hint", ""))

    def raise_if_errors(self) -> None:
        """Stop with every error so far; under --strict, warnings count as errors."""
        errs = self.errors
        if self.strict:
            errs = errs + [Problem(w.path, w.line, w.message, w.hint, "error") for w in self.warnings]
        if errs:
            raise BookError(errs)
