"""apply_edits applies a rule's edits from the end with one reindex: the same tree as one reindex per edit."""

from __future__ import annotations

import random

from lxml import etree

import book.typography.text as T


def per_edit(run: T.Run, edits: list[T.Edit]) -> int:
    """The reference: a full reindex after every edit (what apply_edits did before)."""
    n = 0
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        if run.text[start:end] != new and run.replace(start, end, new, reindex=True):
            n += 1
    return n


def random_paragraph(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 6)):
        t = "".join(rng.choice("中文ab，。 1x") for _ in range(rng.randint(0, 8)))
        k = rng.random()
        parts.append(f"<em>{t}<b>{t[::-1]}</b></em>" if k < 0.3 else f"<code>{t}</code>" if k < 0.45 else t)
    return "<p>" + "".join(parts) + "</p>"


def random_edits(rng: random.Random, length: int) -> list[T.Edit]:
    """Non-overlapping edits, as the rules make them: insertions, replacements, deletions."""
    edits, last = [], 0
    for start in sorted(rng.randint(0, length) for _ in range(rng.randint(0, 6))):
        if start < last:
            continue
        end = min(length, start + rng.choice([0, 0, 1, 2]))
        edits.append((start, end, "".join(rng.choice("\u2060— x") for _ in range(rng.randint(0, 2)))))
        last = end if end > start else start
    return edits


def test_one_reindex_gives_the_tree_of_one_reindex_per_edit() -> None:
    rng = random.Random(19)
    for _ in range(3000):
        html = random_paragraph(rng)
        a, b = etree.fromstring(html), etree.fromstring(html)
        run_a, run_b = next(T.runs(a), None), next(T.runs(b), None)
        if run_a is None:
            continue
        edits = random_edits(rng, len(run_a.text))
        assert per_edit(run_a, edits) == T.apply_edits(run_b, edits), html
        run_a.write()
        run_b.write()
        assert run_b.text == run_a.text
        assert [c.c for c in run_b.chars] == [c.c for c in run_a.chars]
        assert etree.tostring(b, encoding=str) == etree.tostring(a, encoding=str), (html, edits)


def test_a_long_paragraph_is_reindexed_once_per_rule(monkeypatch) -> None:
    # one reindex per edit made typesetting quadratic in a paragraph's length
    calls = []
    real = T.Run._reindex
    monkeypatch.setattr(T.Run, "_reindex", lambda self: (calls.append(1), real(self))[1])
    text = "在1956年的达特茅斯会议上，John McCarthy等人提出了“人工智能”这一术语。" * 200
    root = etree.fromstring(f"<div><p>{text}</p></div>")
    before = len(calls)
    counts = T.apply_text_rules(root)
    edits = sum(v for v in counts.values() if isinstance(v, int))
    assert edits >= 600
    assert len(calls) - before < 20
