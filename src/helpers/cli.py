"""Command line: ``python -m helpers {notebooks,sweep,screenshot,toc,chapters,own-folder,repository-url}`` (reproducibility page)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

BOOK_CONFIG = "configs/book.yaml"
"""The chapter registry the commands read unless told otherwise."""


def _parser(command: str, description: str, registry: bool = False) -> argparse.ArgumentParser:
    """The parser of ``python -m helpers <command>``; ``registry`` adds the optional ``config``.

    ``config`` is the chapter registry (default :data:`BOOK_CONFIG`), the positional argument of
    ``toc`` and ``chapters`` (reproducibility page).
    """
    parser = argparse.ArgumentParser(prog=f"python -m helpers {command}", description=description)
    if registry:
        parser.add_argument("config", nargs="?", default=BOOK_CONFIG,
                            help="the chapter registry (default: %(default)s)")
    return parser


def _cmd_notebooks(argv: Sequence[str]) -> int:
    from helpers.build.book import execute_chapters

    parser = _parser(
        "notebooks", "Execute the book's chapters with papermill from a YAML of parameter sets."
    )
    parser.add_argument("config", help="YAML file listing notebooks, outputs and parameters")
    parser.add_argument("--only", default=None, help="run only chapters whose output contains this")
    parser.add_argument("--force", action="store_true",
                        help="re-execute even chapters whose inputs are unchanged")
    args = parser.parse_args(argv)
    from helpers.build.book import ChapterFailed
    from helpers.nbparams import UnknownParameterError
    from helpers.yamlfile import DuplicateKeyError

    try:
        execute_chapters(args.config, only=args.only, force=args.force)
    except (UnknownParameterError, DuplicateKeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ChapterFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _cmd_toc(argv: Sequence[str]) -> int:
    from pathlib import Path

    from helpers.build.book import toc_yaml

    parser = _parser(
        "toc", f"Write _toc.yml from the chapter registry ({BOOK_CONFIG}).", registry=True
    )
    parser.add_argument("--out", default="_toc.yml")
    parser.add_argument("--check", action="store_true", help="exit 1 if --out is out of date")
    args = parser.parse_args(argv)
    text, out = toc_yaml(args.config), Path(args.out)
    if args.check:
        if not out.is_file() or out.read_text() != text:
            print(f"{out} is out of date: run `python -m helpers toc {args.config}`",
                  file=sys.stderr)
            return 1
        return 0
    out.write_text(text)
    print(f"wrote {out}")
    return 0


def _cmd_chapters(argv: Sequence[str]) -> int:
    from helpers.build.book import NBVAL_MODES, nbval_outputs

    parser = _parser(
        "chapters",
        "Print the executed chapters checked with nbval in one mode (Makefile).",
        registry=True,
    )
    parser.add_argument("--nbval", choices=NBVAL_MODES, required=True)
    args = parser.parse_args(argv)
    print(" ".join(nbval_outputs(args.config, args.nbval)))
    return 0


def _cmd_screenshot(argv: Sequence[str]) -> int:
    from helpers.build.browser import DESKTOP_WIDTH, check_rendered_book

    parser = _parser(
        "screenshot", "Render built HTML pages in headless Chromium, screenshot them, check "
        "figures, and print each page's height at desktop and phone width."
    )
    parser.add_argument("html_dir", help="the built book, e.g. _build/html")
    parser.add_argument("--out", default="_build/screenshots", help="folder for PNG screenshots")
    parser.add_argument("--config", default=BOOK_CONFIG, help="the chapter registry")
    parser.add_argument("--width", type=int, default=DESKTOP_WIDTH,
                        help="desktop viewport width in px (default: %(default)s; the phone "
                             "check is always 390 px)")
    args = parser.parse_args(argv)
    from helpers.build.browser import book_pages

    report = check_rendered_book(args.html_dir, args.out, book_pages(args.config),
                                 width=args.width)
    print(f"{'page':48s} {'height at ' + str(args.width) + ' px':>18s} {'at 390 px':>10s}  "
          "figures")
    for page in report:
        print(f"{page.page:48s} {page.height_px:18,d} {page.phone_height_px:10,d}  "
              f"{page.images_loaded}/{page.images_total}  {page.screenshot}")
        for problem in page.overflows:
            print(f"  overflows the content column: {problem}")
        for problem in page.phone_overflows:
            print(f"  wider than a phone: {problem}")
        for problem in page.images_without_alt:
            print(f"  figure without alt text in words: {problem}")
        for problem in page.images_low_res:
            print(f"  figure not sharp on a high-density screen: {problem}")
        for problem in page.phone_figures:
            print(f"  phone: {problem}")
        for problem in page.console_errors:
            print(f"  {problem}")
    return 0 if all(p.ok for p in report) else 1


def _cmd_sweep(argv: Sequence[str]) -> int:
    from helpers.sweep import main as sweep_main

    return sweep_main(list(argv))


def _cmd_own_folder(argv: Sequence[str]) -> int:
    from helpers.build.ownfolder import main as own_main

    return own_main(list(argv))


def _cmd_repository_url(argv: Sequence[str]) -> int:
    from helpers.build.repository import configured_url, set_repository_url

    parser = _parser("repository-url", "Print the book's repository address (_config.yml), or "
                     "move every copy of it to NEW_URL.")
    parser.add_argument("new_url", nargs="?", help="https://github.com/OWNER/NAME")
    parser.add_argument("--root", default=".", help="the repository's root (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.new_url is None:
        print(configured_url(args.root))
        return 0
    try:
        changed = set_repository_url(args.root, args.new_url)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in changed:
        print(f"updated {path}")
    if changed:
        print("re-execute the chapters (make notebooks): their first cell names the repository")
    return 0


COMMANDS = {
    "notebooks": _cmd_notebooks,
    "sweep": _cmd_sweep,
    "screenshot": _cmd_screenshot,
    "toc": _cmd_toc,
    "chapters": _cmd_chapters,
    "own-folder": _cmd_own_folder,
    "repository-url": _cmd_repository_url,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m helpers`` and the ``resbook`` script (all chapters)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in COMMANDS:
        print("usage: python -m helpers {" + ",".join(COMMANDS) + "} ...", file=sys.stderr)
        if argv and argv[0] not in {"-h", "--help"}:
            print(f"unknown command {argv[0]!r}", file=sys.stderr)
            return 2
        return 0
    return COMMANDS[argv[0]](argv[1:])
