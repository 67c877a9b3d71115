"""book.engine.fontmatch: fontconfig asked in this process answers as `fc-match` does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from book.engine import fontmatch
from book.epub.fonts import FACES
from book.typography.coverage import FAMILIES

PATTERNS = [*FAMILIES, *(f.pattern for f in FACES), "Noto Serif CJK TC", "serif:lang=zh-TW", "No Such Face 42"]


@pytest.mark.skipif(fontmatch._library() is None or not shutil.which("fc-match"), reason="needs fontconfig")
@pytest.mark.parametrize("pattern", PATTERNS)
def test_the_library_answers_as_fc_match(pattern: str) -> None:
    lib = fontmatch._library()
    assert lib is not None
    assert lib.match(pattern) == fontmatch._command(pattern)


def test_without_the_library_fc_match_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fontmatch, "_library", lambda: None)
    fontmatch.match.cache_clear()
    try:
        found = fontmatch.match(FAMILIES[0])
        if shutil.which("fc-match"):
            assert found is not None and found.file.is_file() and FAMILIES[0] in found.families
        else:
            assert found is None
    finally:
        fontmatch.match.cache_clear()


def test_without_fontconfig_nothing_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fontmatch, "_library", lambda: None)
    monkeypatch.setattr(fontmatch.shutil, "which", lambda name: None)
    fontmatch.match.cache_clear()
    try:
        assert fontmatch.match(FAMILIES[0]) is None
    finally:
        fontmatch.match.cache_clear()


def test_a_match_names_an_existing_face() -> None:
    found = fontmatch.match("Noto Serif CJK SC")
    if found is None:
        pytest.skip("no fontconfig")
    assert isinstance(found.file, Path) and found.file.is_file() and found.index >= 0


def test_a_fork_waits_for_a_match_in_another_thread_and_the_child_can_match() -> None:
    """A process forked while another thread is inside fontconfig would inherit its lock held."""
    import os
    import threading

    from book.engine import fontmatch

    fontmatch._library()
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with fontmatch._LOCK:  # as a match in progress
            inside.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    inside.wait(5)
    threading.Timer(0.2, release.set).start()
    pid = os.fork()
    if pid == 0:  # the child: its lock is free, and it matches
        fontmatch.match.cache_clear()
        found = fontmatch.match("Noto Serif CJK SC")
        os._exit(0 if found is not None else 3)
    assert release.is_set()  # the fork waited for the holder to let go
    holder.join(5)
    import time

    deadline = time.monotonic() + 30
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if done[0] == 0:  # the child hung: the bug this guards against
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    assert done[0] == pid and os.waitstatus_to_exitcode(done[1]) == 0
