"""What the browser suites share: a page that collects everything that went wrong on it,
and the backend they run on.

A page's HTML and scripts are the same whichever database holds its data, so the browser
suites run on SQLite; what each backend stores and answers is checked without a browser
(``tests/web`` and ``tests/geodata`` run on both). The tests that store something through
the browser (a contribution, a kept offline place, a workshop run from the desk, the live
projector) run on both backends: they are marked :data:`on_every_backend`.
"""

from __future__ import annotations

import pytest

from tests.conftest import BACKENDS, CHROMIUM, CHROMIUM_ARGS

on_every_backend = pytest.mark.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgis":
        request.applymarker(pytest.mark.postgis)
    return request.param


def _failed(problems: list[str], request) -> None:
    # ERR_ABORTED is the browser cancelling its own request: a map view the map moved on
    # from, or the favicon when the page navigates. Anything else is a real failure.
    if "ERR_ABORTED" not in (request.failure or ""):
        problems.append(f"failed: {request.url} {request.failure}")


@pytest.fixture
def watched(page):
    """The page, with console errors, page errors, failed requests, 4xx/5xx answers and
    dialogs collected in ``page.problems``."""
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: _failed(problems, r))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status}: {r.url}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.problems = problems
    return page


@pytest.fixture
def microphone_page(browser, live_server):
    """A Chromium with a fake microphone (a tone) that may use it without asking."""
    with_microphone = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
        ],
    )
    context = with_microphone.new_context()
    context.grant_permissions(["microphone"], origin=live_server.url)
    yield context.new_page()
    with_microphone.close()
