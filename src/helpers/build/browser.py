"""Render the built book in headless Chromium and check its figures (reproducibility page).

The book is served from a throw-away HTTP server on 127.0.0.1, each page is opened in Debian's
Chromium through Playwright (no browser download: the system binary is used), screenshotted, and
every ``<img>`` in the page's main content is checked to have loaded (``naturalWidth > 0``).
Every table, image and figure is also checked to fit the content column: a table wider than the
column (whose right-hand columns a reader would have to scroll to, or would not see) is reported
with its first header cells, so the failing test names the table. Every page is opened as on a
first visit (empty localStorage) and whatever it logs as a console error or throws uncaught
(a script included twice, a bad theme setting, a resource that fails to load) is reported too.
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
    overflows: tuple[str, ...] = ()
    console_errors: tuple[str, ...] = ()
    height_px: int = 0
    phone_height_px: int = 0
    phone_overflows: tuple[str, ...] = ()
    images_without_alt: tuple[str, ...] = ()
    images_low_res: tuple[str, ...] = ()
    phone_figures: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return (self.images_total == self.images_loaded and not self.overflows
                and not self.console_errors and not self.phone_overflows
                and not self.images_without_alt and not self.images_low_res
                and not self.phone_figures)


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


_OVERFLOW_JS = """() => {
    const column = document.querySelector('article.bd-article') || document.querySelector('main');
    if (!column) { return ['no content column (article.bd-article) found']; }
    const limit = column.getBoundingClientRect().right + 1;
    const out = [];
    for (const el of column.querySelectorAll('table, img, svg, figure')) {
        if (el.closest('.toggle-hidden, details:not([open]), .cell_output.hide, .tag_hide-output')) {
            continue;
        }
        const r = el.getBoundingClientRect();
        const width = Math.max(r.width, el.scrollWidth || 0);
        if (r.width > 0 && r.left + width > limit) {
            const head = el.tagName === 'TABLE'
                ? Array.from(el.querySelectorAll('th')).slice(0, 4).map(t => t.textContent.trim())
                    .join(' | ')
                : (el.getAttribute('alt') || el.getAttribute('src') || '').slice(0, 60);
            out.push(`${el.tagName.toLowerCase()} ${Math.round(width)} px wide, column ends at `
                     + `${Math.round(limit - r.left)} px: ${head}`);
        }
    }
    return out;
}"""


PHONE = {"width": 390, "height": 844}
"""The phone viewport of the check (an iPhone 12-14 in CSS pixels)."""

DESKTOP_WIDTH = 1366
"""The desktop viewport width of the check and of the height budgets (a common laptop screen)."""

_PHONE_OVERFLOW_JS = """() => {
    const width = window.innerWidth;
    if (document.documentElement.scrollWidth <= width + 1) { return []; }
    const scrolls = el => {
        for (let p = el.parentElement; p; p = p.parentElement) {
            const s = getComputedStyle(p).overflowX;
            if (s === 'auto' || s === 'scroll' || s === 'hidden') { return true; }
        }
        return false;
    };
    const out = [];
    for (const el of document.querySelectorAll('main *')) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.right <= width + 1 || el.closest('pre, .highlight')) { continue; }
        if (scrolls(el)) { continue; }
        const text = (el.getAttribute('alt') || el.textContent || '').trim().slice(0, 50);
        out.push(`${el.tagName.toLowerCase()} ends at ${Math.round(r.right)} px: ${text}`);
        if (out.length >= 5) { break; }
    }
    return out.length ? out : [`page is ${document.documentElement.scrollWidth} px wide`];
}"""

_ALT_JS = """() => {
    const imgs = Array.from(document.querySelectorAll('article.bd-article img'));
    const name = i => (i.getAttribute('src') || '').split('/').pop().slice(0, 60);
    const words = el => el ? el.innerText.trim().split(/\\s+/).filter(w => w).length : 0;
    const noAlt = imgs.filter(i => {
        const alt = (i.getAttribute('alt') || '').trim();
        return alt.split(/\\s+/).length < 3 || /\\.(png|svg|jpe?g)$|^_images\\//i.test(alt);
    }).map(i => name(i) + ': alt=' + JSON.stringify(i.getAttribute('alt')));
    // a caption: the figure's figcaption, or (an image glued inline from another page, which
    // cannot sit in a figure) the paragraph right after the image's own block
    const noCaption = imgs.filter(i => {
        const fig = i.closest('figure');
        if (fig) { return words(fig.querySelector('figcaption')) < 5; }
        const block = i.closest('p, div.cell_output, div.output, div');
        const next = block && block.nextElementSibling;
        return !(next && next.tagName === 'P' && words(next) >= 5);
    }).map(i => name(i) + ': no caption');
    return noAlt.concat(noCaption);
}"""


_LOW_RES_JS = """() => {
    const shown = Array.from(document.querySelectorAll('article.bd-article img')).filter(i =>
        i.complete && i.naturalWidth > 0 && i.clientWidth > 0 && i.clientHeight > 0);
    const name = i => (i.getAttribute('src') || '').split('/').pop().slice(0, 60);
    const blurred = shown.filter(i => i.clientWidth >= 120 && i.naturalWidth < 1.9 * i.clientWidth)
        .map(i => name(i) + ': ' + i.naturalWidth + ' px drawn at ' + i.clientWidth + ' px (not 2x)');
    const squashed = shown.filter(i => Math.abs((i.clientWidth / i.clientHeight) /
        (i.naturalWidth / i.naturalHeight) - 1) > 0.03)
        .map(i => name(i) + ': drawn ' + i.clientWidth + 'x' + i.clientHeight +
             ', image ' + i.naturalWidth + 'x' + i.naturalHeight + ' (aspect ratio changed)');
    return blurred.concat(squashed);
}"""
"""Figures drawn with fewer than ~2 image pixels per CSS pixel (blurred on a high-density screen)
or with another aspect ratio than the image's (squashed); desktop width."""


_ZOOM_JS = """() => {
    const imgs = Array.from(document.querySelectorAll('article.bd-article img'))
        .filter(i => !i.closest('a') || i.closest('a').classList.contains('image-reference'));
    if (!imgs.length) { return []; }
    const missing = imgs.filter(i => !i.classList.contains('figure-zoomable'))
        .map(i => (i.getAttribute('src') || '').split('/').pop() + ': not tap-to-zoom');
    let handled = null;  // runs after the page's own handlers: did one keep the reader here?
    const guard = e => { handled = e.defaultPrevented || !imgs[0].closest('a'); e.preventDefault(); };
    window.addEventListener('click', guard);
    imgs[0].click();
    window.removeEventListener('click', guard);
    const overlay = document.querySelector('.figure-zoom-overlay');
    const opened = handled && overlay && overlay.classList.contains('open') &&
        overlay.querySelector('img').getAttribute('src');
    const closer = overlay && overlay.querySelector('button');
    if (closer) { closer.click(); } else if (overlay) { overlay.click(); }
    const closed = !overlay || !overlay.classList.contains('open');
    const problems = opened ? missing : missing.concat(['tapping a figure opens no enlarged view']);
    return closed ? problems : problems.concat(['the enlarged view does not close']);
}"""
"""Figures a phone reader cannot tap to enlarge (``book/_static/figure-zoom.js``)."""


def book_pages(config_path: str | os.PathLike[str]) -> list[str]:
    """Every HTML page of the book, from the chapter registry (``index.html`` first)."""
    from helpers.build.book import Chapter, load_registry

    reg = load_registry(config_path)
    pages = ["index.html", f"{reg.root}.html"]
    for part in reg.parts:
        for e in part.entries:
            target = e.output.with_suffix("") if isinstance(e, Chapter) else e
            pages.append(f"{target.as_posix()}.html")
    return pages


def check_rendered_book(
    html_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    pages: Sequence[str] = DEFAULT_PAGES,
    width: int = DESKTOP_WIDTH,
    height: int = 900,
    timeout_ms: float = 120_000,
    check_alt: bool = True,
) -> list[PageCheck]:
    """Screenshot each page of the built book and count loaded figures (book build check).

    Also measures each page's height at the desktop width and on a phone (:data:`PHONE`), lists
    what makes a phone page wider than its viewport (code blocks and tables inside a scrolling
    container excepted) and, with ``check_alt``, every figure whose alt text is not words (empty,
    under three words, or a file name). Requests outside the served folder are aborted;
    ``timeout_ms`` bounds each page's load."""
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
            # A busy 2-core CI machine can take longer than Playwright's 30 s default to lay out
            # the longest chapters; a page that never settles still fails, after 2 minutes.
            tab.set_default_timeout(timeout_ms)
            # Only the book's own files are loaded: a request elsewhere (a CDN, a launch button's
            # service) is aborted, so the check is the same offline and online and cannot hang.
            tab.route("**/*", lambda route: route.continue_()
                      if route.request.url.startswith(base) else route.abort())
            # Each page as a reader's first visit: state a previous page stored (the theme mode)
            # would hide an error that only a first visit logs.
            tab.add_init_script("try { window.localStorage.clear(); } catch (e) {}")
            errors: list[str] = []
            tab.on("console", lambda msg: errors.append(f"console.error: {msg.text}")
                   if msg.type == "error" else None)
            tab.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
            phone = browser.new_page(viewport=PHONE, is_mobile=True)
            phone.set_default_timeout(timeout_ms)
            phone.route("**/*", lambda route: route.continue_()
                        if route.request.url.startswith(base) else route.abort())
            for page in pages:
                errors.clear()
                tab.goto(f"{base}/{page}", wait_until="load")
                tab.wait_for_load_state("networkidle")
                counts = tab.evaluate(
                    """() => {
                        const imgs = Array.from(document.querySelectorAll('main img'));
                        return [imgs.length,
                                imgs.filter(i => i.complete && i.naturalWidth > 0).length];
                    }"""
                )
                overflows = tuple(tab.evaluate(_OVERFLOW_JS))
                no_alt = tuple(tab.evaluate(_ALT_JS)) if check_alt else ()
                low_res = tuple(tab.evaluate(_LOW_RES_JS))
                height = int(tab.evaluate("document.documentElement.scrollHeight"))
                shot = out / (page.replace("/", "_").removesuffix(".html") + ".png")
                tab.screenshot(path=str(shot), full_page=True)
                phone.goto(f"{base}/{page}", wait_until="load")
                phone.wait_for_load_state("networkidle")
                phone_over = tuple(phone.evaluate(_PHONE_OVERFLOW_JS))
                phone_height = int(phone.evaluate("document.documentElement.scrollHeight"))
                phone_squashed = tuple(p for p in phone.evaluate(_LOW_RES_JS) if "aspect" in p)
                no_zoom = tuple(phone.evaluate(_ZOOM_JS)) + phone_squashed
                results.append(PageCheck(page, shot, tab.title(), counts[0], counts[1], overflows,
                                         tuple(errors), height, phone_height, phone_over, no_alt,
                                         low_res, no_zoom))
        finally:
            browser.close()
    return results
