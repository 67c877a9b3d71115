"""EPUBCheck verdicts → entries of the build cache, keyed by the EPUB's content hash.

EPUBCheck reads nothing but the EPUB and its own jar, so its verdict on the same bytes is the same
verdict: a rebuild whose EPUB came out byte-identical (an edit to a `print:` option, to the PDF's
styles, to a chapter's front matter that only the PDF shows) needs no second JVM. `book check`
never asks the cache: it runs every validator in full.

Also the JVM options for a run this short, with the measurements behind them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from book.cache import Cache, digest, file_sha256, stat_key

STAGE = "epubcheck"
KEEP = 6  # verdicts kept: a few EPUBs side by side (undoing an edit finds its verdict again)
# EPUBCheck 5.3 on the sample's 0.56 MB EPUB, OpenJDK 17: the JVM's defaults (C2 compiler, G1 with
# its helper threads) 4.7 s wall and 8.3 s CPU; C1 only and the serial collector 3.2 s and 3.8 s.
# A run of a few seconds never earns back C2's compile time nor G1's threads on 2 cores.
# Not an AppCDS archive: on a loaded 2-core machine it saved 0.5 s wall / 0.8 s CPU per run
# (4.8 against 5.4 s wall, 6.2 against 7.0 s CPU, 4 interleaved pairs) but costs ~10 s CPU and
# 30 MB to dump (Saxon is a signed jar, so its 1,400 classes stay out of it anyway); OpenJDK
# 17.0.15's dynamic dump (-XX:ArchiveClassesAtExit) crashes on EPUBCheck's lambdas, and a static
# one only without them. `make clean` would throw it away with build/.cache, so a clean `make`
# would pay the dump and never the saving.
JVM_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
# What decides how the verdict is read back into a CheckResult (its summary and details).
_READER = Path(__file__).resolve().parent / "check.py"


def verdict_key(epub: Path, jar: Path) -> str:
    """The EPUB's bytes, the jar and the Java runtime (by identity) and the code reading the report."""
    java = shutil.which("java")
    return digest(
        STAGE, file_sha256(epub), stat_key(jar), stat_key(Path(java).resolve()) if java else "no java", _READER
    )


def usable(cache: Cache | None) -> bool:
    return cache is not None and cache.enabled
