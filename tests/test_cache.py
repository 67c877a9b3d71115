"""Unit tests for the verified stage cache: keys, corrupt entries, the toolchain fingerprint."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from book.engine.cache import Cache, digest, disabled, stat_key, toolchain_fingerprint, tree_digest


def counting(value):
    calls = []

    def compute():
        calls.append(1)
        return value

    return compute, calls


def test_digest_is_stable_and_sensitive(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("一", encoding="utf-8")
    k1 = digest("x", f, {"b": 1, "a": [1, 2]}, None)
    assert k1 == digest("x", f, {"a": [1, 2], "b": 1}, None)
    f.write_text("二", encoding="utf-8")
    assert digest("x", f, {"b": 1, "a": [1, 2]}, None) != k1
    assert digest(["ab", "c"]) != digest(["a", "bc"])


def test_memo_computes_once(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    compute, calls = counting({"v": 1})
    assert cache.memo("stage", "k" * 64, compute) == {"v": 1}
    assert Cache(tmp_path).memo("stage", "k" * 64, compute) == {"v": 1}
    assert len(calls) == 1


def test_corrupt_entry_is_recomputed_not_trusted(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    key = digest("corrupt")
    cache.memo("stage", key, lambda: "good")
    entry = next((tmp_path / "stage").rglob(key))
    blob = entry.read_bytes()
    entry.write_bytes(blob[:-3] + b"bad")  # same length, wrong content
    compute, calls = counting("recomputed")
    fresh = Cache(tmp_path)
    assert fresh.memo("stage", key, compute) == "recomputed"
    assert calls == [1] and fresh.misses == 1 and fresh.hits == 0
    assert Cache(tmp_path).memo("stage", key, compute) == "recomputed"  # stored again, now trusted
    assert calls == [1]


def test_truncated_and_garbage_entries_are_misses(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    for i, damage in enumerate((lambda b: b[: len(b) // 2], lambda b: b"", lambda b: b"not a cache entry")):
        key = digest("t", i)
        cache.memo_bytes("bytes", key, lambda: b"payload" * 100)
        entry = next((tmp_path / "bytes").rglob(key))
        entry.write_bytes(damage(entry.read_bytes()))
        assert cache.get("bytes", key) is None
        assert not entry.exists()  # deleted, so it is rewritten on the next store


def test_disabled_cache_stores_nothing(tmp_path: Path) -> None:
    cache = disabled()
    compute, calls = counting(3)
    cache.memo("s", "k", compute)
    cache.memo("s", "k", compute)
    assert len(calls) == 2
    off = Cache(tmp_path, enabled=False)
    off.put("s", "k", b"x")
    assert not any(tmp_path.iterdir())


def test_prune_keeps_only_live_keys(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    for k in ("aa11", "bb22", "cc33"):
        cache.put("part", k, b"1")
    assert cache.prune("part", ["bb22"]) == 2
    assert cache.get("part", "bb22") == b"1" and cache.get("part", "aa11") is None


def test_tree_digest_sees_an_edited_template(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "chapter.html.j2").write_text("{{ content }}", encoding="utf-8")
    before = tree_digest([tmp_path / "t"])
    (tmp_path / "t" / "chapter.html.j2").write_text("<div>{{ content }}</div>", encoding="utf-8")
    assert tree_digest([tmp_path / "t"]) != before
    assert stat_key(tmp_path / "t" / "chapter.html.j2") != stat_key(tmp_path / "missing")


def test_toolchain_fingerprint_imports_no_heavy_module() -> None:
    code = (
        "import sys; from book.engine.cache import toolchain_fingerprint as f; f(); "
        "print([m for m in ('weasyprint', 'pypandoc', 'ebooklib') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert len(toolchain_fingerprint()) == 64


def test_trim_keeps_the_most_recently_used(tmp_path: Path) -> None:
    import os

    cache = Cache(tmp_path)
    for i, k in enumerate(("aa11", "bb22", "cc33")):
        cache.put("pdf", k, b"x")
        os.utime(cache._path("pdf", k), ns=(i * 10**9, i * 10**9))
    assert cache.get("pdf", "aa11") == b"x"  # a hit makes it the newest
    assert cache.trim("pdf", keep=2) == 1
    assert cache.get("pdf", "bb22") is None and cache.get("pdf", "aa11") == b"x"


def test_installed_versions_agree_with_importlib_metadata() -> None:
    from importlib import metadata

    from book.engine.cache import TOOL_DISTRIBUTIONS, installed_versions

    found = installed_versions()
    for name in TOOL_DISTRIBUTIONS:
        assert found[re.sub(r"[-_.]+", "_", name).lower()] == metadata.version(name), name


def test_package_files_see_an_edit_and_skip_bytecode(tmp_path: Path, monkeypatch) -> None:
    import os

    from book.engine import cache as cache_mod

    (tmp_path / "stage").mkdir()
    (tmp_path / "stage" / "__pycache__").mkdir()
    (tmp_path / "stage" / "__pycache__" / "rule.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "stage" / "rule.py").write_text("A = 1\n", encoding="utf-8")
    monkeypatch.setattr(cache_mod, "PACKAGE_DIR", tmp_path)
    before = cache_mod._package_files()
    assert [name for name, _, _ in before] == [os.path.join("stage", "rule.py")]
    (tmp_path / "stage" / "rule.py").write_text("A = 2\n", encoding="utf-8")  # same size, a later mtime
    os.utime(tmp_path / "stage" / "rule.py", ns=(before[0][2] + 1_000_000, before[0][2] + 1_000_000))
    assert cache_mod._package_files() != before
