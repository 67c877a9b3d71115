"""A fontconfig pattern → the face fontconfig picks for it (its file, face index and family names),
as `fc-match` answers, but asked of libfontconfig in this process.

Why: a build asked `fc-match` 25 times (the coverage check's nine families in each parts worker,
the EPUB's seven faces in the parent), each run a new process that loads fontconfig's caches again:
8 ms of CPU apiece, 0.2 s of a clean build's. In this process the caches load once (~6 ms) and a
match costs well under a millisecond. The answer is the one `fc-match` computes: the same calls in
the same order (parse, substitute for the pattern, default substitute, match). Without the library
(another system, a failed load) the command is run as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MATCH_PATTERN = 0  # FcMatchPattern
RESULT_MATCH = 0  # FcResultMatch


@dataclass(frozen=True)
class Match:
    file: Path
    index: int
    families: tuple[str, ...]  # the face's family names, the first one fontconfig lists first


class _Fontconfig:
    """libfontconfig's few matching calls, its configuration loaded once."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        vp, cp = ctypes.c_void_p, ctypes.c_char_p
        lib.FcInitLoadConfigAndFonts.restype = vp
        lib.FcNameParse.argtypes, lib.FcNameParse.restype = [cp], vp
        lib.FcConfigSubstitute.argtypes, lib.FcConfigSubstitute.restype = [vp, vp, ctypes.c_int], ctypes.c_int
        lib.FcDefaultSubstitute.argtypes, lib.FcDefaultSubstitute.restype = [vp], None
        lib.FcFontMatch.argtypes, lib.FcFontMatch.restype = [vp, vp, ctypes.POINTER(ctypes.c_int)], vp
        lib.FcPatternGetString.argtypes = [vp, cp, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]
        lib.FcPatternGetString.restype = ctypes.c_int
        lib.FcPatternGetInteger.argtypes = [vp, cp, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
        lib.FcPatternGetInteger.restype = ctypes.c_int
        lib.FcPatternDestroy.argtypes, lib.FcPatternDestroy.restype = [vp], None
        self.lib = lib
        self.config = lib.FcInitLoadConfigAndFonts()  # this process's own: never the library's global one
        if not self.config:
            raise OSError("fontconfig did not load its configuration")

    def match(self, pattern: str) -> Match | None:
        lib = self.lib
        with _LOCK:
            pat = lib.FcNameParse(pattern.encode("utf-8"))
            if not pat:
                return None
            try:
                lib.FcConfigSubstitute(self.config, pat, MATCH_PATTERN)
                lib.FcDefaultSubstitute(pat)
                result = ctypes.c_int(0)
                found = lib.FcFontMatch(self.config, pat, ctypes.byref(result))
            finally:
                lib.FcPatternDestroy(pat)
            if not found:
                return None
            try:
                return self._read(found)
            finally:
                lib.FcPatternDestroy(found)

    def _read(self, pat: int) -> Match | None:
        lib, text, number = self.lib, ctypes.c_char_p(), ctypes.c_int(0)
        if lib.FcPatternGetString(pat, b"file", 0, ctypes.byref(text)) != RESULT_MATCH or not text.value:
            return None
        file = Path(text.value.decode("utf-8", "surrogateescape"))
        index = number.value if lib.FcPatternGetInteger(pat, b"index", 0, ctypes.byref(number)) == RESULT_MATCH else 0
        families: list[str] = []
        while lib.FcPatternGetString(pat, b"family", len(families), ctypes.byref(text)) == RESULT_MATCH:
            families.append((text.value or b"").decode("utf-8", "replace"))
        return Match(file, index, tuple(families))


def _sonames() -> Iterator[str]:
    yield "libfontconfig.so.1"
    found = ctypes.util.find_library("fontconfig")  # only if that failed: it runs `ldconfig -p`
    if found:
        yield found


# Every call into fontconfig holds this lock: a configuration is not safe to match with from two
# threads, and a process forked while another thread is inside fontconfig (the preview's warm-up
# thread beside a build's worker pools) would start with that thread's half-done state and a lock
# no one releases. So a fork waits until no call is running.
_LOCK = threading.Lock()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_LOCK.acquire, after_in_parent=_LOCK.release, after_in_child=_LOCK.release)


@lru_cache(maxsize=1)
def _library() -> _Fontconfig | None:
    for soname in _sonames():  # find_library runs `ldconfig -p`: not under the lock a fork takes
        try:
            with _LOCK:
                return _Fontconfig(ctypes.CDLL(soname))
        except (OSError, AttributeError):
            continue
    return None


def _command(pattern: str) -> Match | None:
    """`fc-match`'s answer (None: no fc-match, or it failed)."""
    if not shutil.which("fc-match"):
        return None
    try:
        out = subprocess.run(["fc-match", "--format", "%{file}\n%{index}\n%{family}", pattern],
                             capture_output=True, text=True, check=True).stdout.split("\n")  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    if len(out) < 3 or not out[0]:
        return None
    return Match(Path(out[0]), int(out[1] or 0), tuple(out[2].split(",")))


@lru_cache(maxsize=64)
def match(pattern: str) -> Match | None:
    """The face fontconfig picks for `pattern` ("Noto Serif CJK SC", "Noto Sans CJK SC:style=Bold"),
    None where fontconfig is missing altogether."""
    fc = _library()
    return fc.match(pattern) if fc is not None else _command(pattern)
