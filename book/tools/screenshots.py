"""Screenshots: the built EPUB → PNGs of each part's first pages on each device, via headless Chromium.

The pictures come from the same reader page `book preview` serves (epub.js, paginated), so they show
what the author sees: `build/preview/<part>-<device>-<n>.png`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from book.engine.atomic import write_bytes
from book.tools.preview import Previewer, PreviewServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")  # fmt: skip
DEVICES = ("phone", "eink", "tablet")
WAIT_MS = 60_000


def take(
    config_path: str | Path,
    out: str | Path,
    *,
    pages: int = 2,
    devices: tuple[str, ...] = DEVICES,
    theme: str = "light",
    parts: tuple[str, ...] = (),
) -> list[Path]:
    """Build the book and write `pages` screenshots of every chapter and appendix per device."""
    from playwright.sync_api import sync_playwright

    target = Path(out) / "preview"
    target.mkdir(parents=True, exist_ok=True)
    previewer = Previewer(config_path, out, log=lambda m: print(m, file=sys.stderr))
    result = previewer.rebuild()
    if not result.ok:
        from book.errors import BookError, Problem

        raise BookError(Problem(str(config_path), None, "the book does not build", result.error.strip()))
    wanted = [p for p in result.parts if p["kind"] != "front" and (not parts or p["id"] in parts)]
    written: list[Path] = []
    with PreviewServer(previewer, 0, watch=False) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_FLAGS), timeout=WAIT_MS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1250}, device_scale_factor=1)
            page.set_default_timeout(WAIT_MS)
            for device in devices:
                for part in wanted:
                    page.goto(f"{server.url}?at={part['href']}&device={device}&theme={theme}")
                    page.wait_for_selector(f"body[data-ready][data-href='{part['href']}']")
                    frame = page.locator("#device-frame")
                    for n in range(1, pages + 1):
                        if n > 1:
                            if page.get_attribute("body", "data-page") == page.evaluate(
                                "() => String(reader.rendition.currentLocation().start.displayed.total)"
                            ):
                                break  # the part is shorter than `pages`
                            page.click("#next")
                            page.wait_for_selector(f"body[data-page='{n}']")
                        # epub.js lays out in a frame; give fonts one frame to settle before the picture.
                        page.evaluate("() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)))")
                        path = target / f"{part['id']}-{device}-{n}.png"
                        write_bytes(path, frame.screenshot())
                        written.append(path)
        finally:
            browser.close()
    return written
