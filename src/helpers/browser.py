"""Render the built book in headless Chromium and check its figures (reproducibility page).

The book is served from a throw-away HTTP server on 127.0.0.1, each page is opened in Debian's
Chromium through Playwright (no browser download: the system binary is used), screenshotted, and
every ``<img>`` in the page's main content is checked to have loaded (``naturalWidth > 0``).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PAGES = ("index.html", "book/chapters/01_data.html")

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class PageCheck:
    """What one rendered page showed: its screenshot and how many figures loaded."""

    page: str
    screenshot: Path
    title: str
    images_total: int
    images_loaded: int

    @property
    def ok(self) -> bool:
        return self.images_total == self.images_loaded


def find_chromium() -> str:
    """Path of the system Chromium (env RESBOOK_CHROMIUM overrides); clear error when absent."""
    candidates = [os.environ.get("RESBOOK_CHROMIUM", ""), "chromium", "chromium-browser"]
    for name in candidates:
        if name and (path := shutil.which(name)):
            return path
    raise FileNotFoundError(
        "No Chromium found. Install Debian's package (`sudo apt-get install chromium`) "
        "or set RESBOOK_CHROMIUM to a Chromium/Chrome binary."
    )


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve a folder over HTTP on 127.0.0.1 (random port) for the duration of the block."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def check_rendered_book(
    html_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    pages: Sequence[str] = DEFAULT_PAGES,
    width: int = 1280,
    height: int = 900,
) -> list[PageCheck]:
    """Screenshot each page of the built book and count loaded figures (book build check)."""
    from playwright.sync_api import sync_playwright

    html = Path(html_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for page in pages:
        if not (html / page).is_file():
            raise FileNotFoundError(f"{html / page}: page not built; run `make html` first")
    results = []
    with serve_folder(html) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_FLAGS)
        try:
            tab = browser.new_page(viewport={"width": width, "height": height})
            for page in pages:
                tab.goto(f"{base}/{page}", wait_until="load")
                tab.wait_for_load_state("networkidle")
                counts = tab.evaluate(
                    """() => {
                        const imgs = Array.from(document.querySelectorAll('main img'));
                        return [imgs.length,
                                imgs.filter(i => i.complete && i.naturalWidth > 0).length];
                    }"""
                )
                shot = out / (page.replace("/", "_").removesuffix(".html") + ".png")
                tab.screenshot(path=str(shot), full_page=True)
                results.append(PageCheck(page, shot, tab.title(), counts[0], counts[1]))
        finally:
            browser.close()
    return results
