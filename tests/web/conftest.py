"""Browser tests of the web editor: the real app served by uvicorn, driven by Debian's Chromium via Playwright.

No browser is downloaded: Playwright drives /usr/bin/chromium (``make test`` installs it with
infra/setup_browser.sh). In CI (``CI=true``) a missing browser or an unbuilt editor fails the tests with
what to install or build; elsewhere they are skipped with the same message.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB_DIST = ROOT / "web" / "dist"
ARTIFACTS = ROOT / "test-artifacts" / "editor"
VIEWPORT = {"width": 1280, "height": 800}


def chromium_path() -> str | None:
    found = os.environ.get("FLOWZA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return found if Path(found).is_file() else None


def unavailable(reason: str) -> None:
    """Fail in CI (the tests must run there), skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def editor_prerequisites() -> str:
    """Chromium's path, once it and the built editor are known to be there (request this fixture first)."""
    executable = chromium_path()
    if executable is None:
        unavailable("Chromium is not installed: run `make test` (infra/setup_browser.sh installs it) "
                    "or `sudo apt-get install chromium`; set FLOWZA_CHROMIUM to use another binary")
    if not (WEB_DIST / "index.html").is_file():
        unavailable("the web editor is not built (web/dist/index.html is missing): run `make setup` "
                    "or `cd web && npm ci && npm run build`")
    return executable


@pytest.fixture
def browser(editor_prerequisites):
    """A headless Chromium for one test.

    Not session-wide: Playwright's sync API keeps an asyncio loop marked running in this thread while it
    is started, so fixtures set up after it (``flowza_worker``) or torn down while it lives (Prefect's test
    harness) could not call ``asyncio.run()``. Request ``flowza_worker`` and ``live_app`` before it.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=editor_prerequisites, headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture
def live_app(flowza_env, monkeypatch):
    """The real app (API + editor) on a free 127.0.0.1 port, single-user, on the test's fresh FLOWZA_HOME.

    Yields its base URL. FLOWZA_DATA_DIR is the test's own temporary data directory (``flowza_env``).
    """
    import uvicorn

    from api.main import create_app
    from flowza.settings import get_settings

    monkeypatch.delenv("FLOWZA_AUTH_ENABLED", raising=False)
    monkeypatch.delenv("FLOWZA_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, name="flowza-web-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the API server stopped while starting (see the log above)"
        assert time.monotonic() < deadline, "the API server did not start within 30 s"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


class BrowserPage:
    """A page at 1280x800 and every console error and uncaught exception it reported."""

    def __init__(self, page):
        self.page, self.errors = page, []
        page.on("console", lambda m: m.type == "error" and self.errors.append(
            f"console.error: {m.text} ({m.location})"))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))


@pytest.fixture
def browser_page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    yield BrowserPage(context.new_page())
    context.close()


@pytest.fixture
def artifacts() -> Path:
    """test-artifacts/editor/ at the repository root, emptied of the last run's screenshots; kept after the test."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    return ARTIFACTS
