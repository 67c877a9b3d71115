"""book.engine.workers.part_workers: the parts' processes, one more than the cores (each waits on Pandoc)."""

from __future__ import annotations

import pytest

from book.engine import workers


@pytest.mark.parametrize(("cores", "parts", "jobs", "expected"), [
    (2, 30, None, 3),  # one more than the cores
    (2, 2, None, 2),  # never more than the parts (the sample: its chapter and its appendix)
    (2, 1, None, 1),
    (2, 30, 1, 1),  # --jobs is obeyed
    (2, 30, 8, 3),  # --jobs is an upper bound, as for every pool
    (1, 30, None, 2),
    (8, 30, None, 9),
    (2, 0, None, 1),
])  # fmt: skip
def test_part_workers(monkeypatch: pytest.MonkeyPatch, cores: int, parts: int, jobs: int | None, expected: int) -> None:
    monkeypatch.setattr(workers, "cores", lambda: cores)
    assert workers.part_workers(parts, jobs) == expected
