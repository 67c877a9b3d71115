"""book.pdf.document._typeset: keeps and Latin tagging, cached by the body they are given."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from book.engine.cache import Cache
from book.pdf import document, keeps, latin

BODY = "<p>一段中文里有 a few English words 和 Megatron-LM，末尾一字。</p><p>引子：</p><ul><li>甲</li></ul>"


def test_typeset_is_keeps_then_latin_and_comes_from_the_cache_the_second_time(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    build = SimpleNamespace(cache=cache, parts=[object()])
    expected = latin.tag_latin(keeps.mark(BODY))
    assert document._typeset(BODY, None) == expected
    assert document._typeset(BODY, build) == expected
    assert document._typeset(BODY, build) == expected
    looked = [hit for stage, _, hit in cache.log if stage == document.TYPESET_STAGE]
    assert looked == [False, True]
    other = BODY.replace("甲", "乙")
    assert document._typeset(other, build) == latin.tag_latin(keeps.mark(other))  # another body, another entry
    document.trim_typeset_cache(build)
    assert len(list((tmp_path / "cache" / document.TYPESET_STAGE).glob("*/*"))) == 2
