"""Pictures of maps (posters, reports): an HTML map file shot by headless Chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

from geodata.errors import HeritageError
from mapping.standalone import write_atomically

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class PictureError(HeritageError):
    """The picture could not be taken (no browser, or the map never finished drawing)."""

    code = "picture_failed"
    status = 500


def chromium_path() -> str:
    """Debian's Chromium (or ``HERITAGE_CHROMIUM``); never a browser downloaded at run time."""
    path = os.environ.get("HERITAGE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        raise PictureError(
            "Chromium is not installed (apt install chromium, or set "
            "HERITAGE_CHROMIUM to its path); it is needed for --png"
        )
    return path


def tile_hosts(template: str | None) -> tuple[str, ...]:
    """The hosts an XYZ template fetches tiles from (``{s}`` stands for a, b and c)."""
    if not template:
        return ()
    hosts = {urlsplit(template.replace("{s}", s)).hostname for s in "abc"}
    return tuple(sorted(h for h in hosts if h))


def render_png(
    html_file: Path,
    png_file: Path,
    *,
    width: int = 1600,
    height: int = 1100,
    tile_hosts: tuple[str, ...] = (),
    timeout_s: float = 60.0,
) -> bytes:
    """Open ``html_file`` in headless Chromium, wait until its places are drawn, and
    write a PNG. Only ``tile_hosts`` may be reached over the network; nothing else is."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise PictureError(
            "the picture needs Playwright (pip install playwright); the "
            "browser itself is Debian's Chromium"
        ) from None
    executable = chromium_path()

    def guard(route, request) -> None:  # type: ignore[no-untyped-def]
        parts = urlsplit(request.url)
        if parts.scheme in ("file", "data", "blob", "about") or parts.hostname in tile_hosts:
            route.continue_()
        else:
            route.abort()

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": width, "height": height})
                page.route("**/*", guard)
                page.goto(Path(html_file).resolve().as_uri(), timeout=timeout_s * 1000)
                page.wait_for_selector(
                    "html[data-atlas-ready]", state="attached", timeout=timeout_s * 1000
                )
                if tile_hosts:
                    page.wait_for_load_state("networkidle", timeout=timeout_s * 1000)
                page.wait_for_timeout(400)  # let markers and fonts settle for the picture
                data = page.screenshot(full_page=False)
            finally:
                browser.close()
    except PlaywrightError as exc:
        raise PictureError(
            f"the map could not be photographed: {exc.message.splitlines()[0]}"
        ) from None
    write_atomically(png_file, data)
    return data
