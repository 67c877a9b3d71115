"""Shared fixtures: the sample book built once per test session, with the real tools."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Build the repository's book (EPUB + PDF) into a temporary folder through the CLI."""
    out = tmp_path_factory.mktemp("build")
    proc = subprocess.run(
        [sys.executable, "-m", "book", "build", "--config", str(ROOT / "book.yaml"), "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return {"out": out, "epub": out / "ai-history.epub", "pdf": out / "ai-history.pdf", "log": proc.stderr}


@pytest.fixture
def book_dir(tmp_path: Path) -> Path:
    """An empty book folder with a minimal book.yaml; tests add sources to it."""
    (tmp_path / "book.yaml").write_text(
        "title: 测试之书\nauthors: [作者]\ndate: 2025-01-01\nchapters:\n  - chapters/*.md\n", encoding="utf-8"
    )
    (tmp_path / "chapters").mkdir()
    return tmp_path


def write_chapter(book: Path, name: str, text: str | bytes) -> Path:
    p = book / "chapters" / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "book", *args], capture_output=True, text=True, cwd=cwd or ROOT)


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


def sigint_default() -> None:
    """`preexec_fn` for a child the test will interrupt: a shell starts background jobs with SIGINT
    ignored, Python then keeps it ignored, and SIGINT would never reach the build."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


# Builds run by the tests never start EPUBCheck's server (book.check.daemon): one left idling
# would outlive the session. tests/test_epubcheck_daemon.py turns it on for its own servers.
os.environ["BOOK_EPUBCHECK_DAEMON"] = "0"


@contextmanager
def weasyprint_own(patch: Any, owner: Any, *names: str) -> Iterator[None]:
    """WeasyPrint's own `names` back on `owner` (from the patch module's ORIGINALS), the patch
    installed again after: to compare a patched render with WeasyPrint's."""
    for name in names:
        setattr(owner, name, patch.ORIGINALS[name])
    try:
        yield
    finally:
        patch._installed = False
        patch.install()
