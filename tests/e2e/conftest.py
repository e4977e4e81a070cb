"""Playwright in Debian's chromium (never `playwright install`: no downloads here)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run from
# one unless told it is safe. Only the browser tests set this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("GONGWEN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 "--disable-quic"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
TIMEOUT_MS = 15_000

# Web-first assertions (expect(…).to_be_visible()) retry until the page shows what they ask
# for: a click starts a navigation but does not wait for the next page, so a bare
# locator.is_visible() right after it races the page load (CI caught one, once in many runs).
expect.set_options(timeout=TIMEOUT_MS)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


# Module scope, not session: the sync API keeps an asyncio loop running in this thread while
# Playwright is up, and pytest-django runs the browser tests before the pure-core tests, some
# of which (pyHanko) call asyncio.run(). Stopping Playwright after each module ends the loop.
@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: run scripts/bootstrap.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900},
                                  base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    context.close()


def artifacts() -> Path:
    """Where screenshots go: one folder per database (test-artifacts/e2e/sqlite,
    …/postgresql), as scripts/test runs the two side by side."""
    from django.db import connection

    folder = ARTIFACTS / connection.vendor
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def shot(page, request):
    folder = artifacts()

    def take(name: str) -> Path:
        path = folder / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def login(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/home/")


def nav(page, name: str) -> None:
    """Follows a link of the main navigation and waits for the page it opens."""
    with page.expect_navigation():
        page.get_by_role("navigation", name="主导航").get_by_role("link", name=name).click()
