"""`python -m book` ends without the interpreter's teardown (book/__main__.py), and still does what a
normal exit does before it: waits for threads, runs atexit handlers, flushes its output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The command line run as `python -m book` runs it, with a handler and a thread of the caller's own.
RUN = """
import atexit, runpy, sys, threading, time
atexit.register(lambda: print("atexit ran", flush=True))
def late():
    time.sleep(0.3)
    print("thread finished", flush=True)
threading.Thread(target=late).start()
sys.argv = ["book", *sys.argv[1:]]
runpy.run_module("book", run_name="__main__", alter_sys=True)
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_the_exit_waits_for_threads_and_runs_atexit_handlers(tmp_path: Path) -> None:
    # `lint` of a missing book returns 1 from main (a user's error): the fast exit, not SystemExit's
    done = run("lint", "--config", str(tmp_path / "book.yaml"))
    assert done.returncode == 1 and "book.yaml" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout.splitlines() == ["thread finished", "atexit ran"]


def test_an_argument_error_leaves_as_argparse_makes_it() -> None:
    done = subprocess.run([sys.executable, "-m", "book", "build", "--jobs", "x"], capture_output=True, text=True,
                          cwd=ROOT)  # fmt: skip
    assert done.returncode == 2 and "usage:" in done.stderr  # argparse's own exit, as before
