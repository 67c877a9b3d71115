"""`python -m book`: the command line (book.cli), then the process ends without the interpreter's
teardown of its heap.

Why: after a build, finalization frees every object one by one (the rendered parts, WeasyPrint's
fonts and caches, lxml trees, the modules): 0.14–0.19 s after `main` returned in a 3.8–4.7 s clean
build of the sample (8 runs), against 4–9 ms ending here. What a normal exit does first still runs:
threads that are not daemons are waited for (threading's own exit hooks with them), then every
atexit handler (temporary folders' finalizers among them), then the streams are flushed; only the
freeing of memory the kernel takes back anyway is skipped. An exception that escapes `main` (a
bug) leaves as usual, with its traceback.
"""

import atexit
import os
import sys
import threading

from book.cli import main

code = main()
threading._shutdown()  # what Py_FinalizeEx calls first (CPython 3.11+, as pyproject requires)
atexit._run_exitfuncs()
for stream in (sys.stdout, sys.stderr):
    try:
        stream.flush()
    except (OSError, ValueError):  # a closed pipe (`book … | head`): nothing left to say
        pass
os._exit(code)
