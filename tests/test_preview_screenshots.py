"""Screenshots: PNGs of a part's first pages per device, from the reader page in headless Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image

from book.tools.screenshots import take
from tests.conftest import ROOT


def test_screenshots_of_chapter_8_on_two_devices(tmp_path: Path) -> None:
    shutil.copy(ROOT / "book.yaml", tmp_path / "book.yaml")
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    paths = take(tmp_path / "book.yaml", tmp_path / "build", pages=2, devices=("phone", "eink"), parts=("ch08",))
    names = [p.name for p in paths]
    assert names == ["ch08-phone-1.png", "ch08-phone-2.png", "ch08-eink-1.png", "ch08-eink-2.png"]
    sizes = {}
    for p in paths:
        assert p.parent == tmp_path / "build" / "preview"
        with Image.open(p) as im:
            sizes[p.name] = im.size
    # The device frame wraps the reading area: 390×740 on the phone, 600×800 on the e-ink reader.
    assert 390 < sizes["ch08-phone-1.png"][0] < 600 < sizes["ch08-eink-1.png"][0]
    assert paths[0].read_bytes() != paths[1].read_bytes()  # page 2 is another page
