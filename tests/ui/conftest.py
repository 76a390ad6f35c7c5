"""Browser tests of the web UI: Playwright driving Debian's Chromium against a real
`tracefeed run` (the same process fixture as tests/python). Screenshots of every page go to
$TRACEFEED_SCREENSHOTS (build/screenshots by default) for people to look at.
"""
import importlib.util
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("TRACEFEED_CHROMIUM", "/usr/bin/chromium")

# tests/python's process fixture, loaded under its own name (both files are "conftest").
_spec = importlib.util.spec_from_file_location("tracefeed_py_fixtures", ROOT / "tests" / "python" / "conftest.py")
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)
start_tracefeed, stop_tracefeed = _fixtures.start_tracefeed, _fixtures.stop_tracefeed


@pytest.fixture(scope="module")
def tracefeed():
    tf = start_tracefeed()
    yield tf
    stop_tracefeed(tf)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not pathlib.Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (scripts/install-deps.sh test installs Debian's chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
