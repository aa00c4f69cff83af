"""Browser tests of the web editor: the real app served by uvicorn, driven by Debian's Chromium via Playwright.

No browser is downloaded: Playwright drives /usr/bin/chromium (``make test`` installs it with
infra/setup_browser.sh). In CI (``CI=true``) a missing browser or an unbuilt editor fails the tests with
what to install or build; elsewhere they are skipped with the same message.

Every wait is for an event (an element, a response, an animation frame) with a generous limit
(``WAIT_MS``): on a busy 2-core CI machine the editor is slow, not wrong. ``Editor`` holds the gestures and
measurements the tests share; screenshots go to test-artifacts/editor/<test>/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import api_server

ROOT = Path(__file__).resolve().parents[2]
WEB_DIST = ROOT / "web" / "dist"
ARTIFACTS = ROOT / "test-artifacts" / "editor"
VIEWPORT = {"width": 1280, "height": 800}
WAIT_MS = 60_000  # the longest any single wait may take on a loaded machine


def chromium_path() -> str | None:
    found = os.environ.get("FLOWZA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return found if Path(found).is_file() else None


def unavailable(reason: str) -> None:
    """Fail in CI (the tests must run there), skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


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
    from flowza_core.settings import get_settings

    monkeypatch.delenv("FLOWZA_AUTH_ENABLED", raising=False)
    monkeypatch.delenv("FLOWZA_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    with api_server("flowza-web-test-server") as url:
        yield url


class BrowserPage:
    """A page at 1280x800 and every console error and uncaught exception it reported."""

    def __init__(self, page):
        self.page, self.errors = page, []
        page.set_default_timeout(WAIT_MS)
        page.on("console", lambda m: m.type == "error" and self.errors.append(
            f"console.error: {m.text} ({m.location})"))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))


@pytest.fixture
def browser_page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    yield BrowserPage(context.new_page())
    context.close()


@pytest.fixture
def artifacts(request) -> Path:
    """test-artifacts/editor/<test>/ at the repository root, emptied of its last screenshots; kept after the test."""
    folder = ARTIFACTS / request.node.name.removeprefix("test_")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


@pytest.fixture
def ui(browser_page, artifacts):
    """The editor's page with the user's gestures; a screenshot of the page if the test fails."""
    editor = Editor(browser_page.page, artifacts)
    yield editor
    # No console errors nor uncaught exceptions at any point (checked by the test, listed here).
    if browser_page.errors:
        print("browser console errors:", *browser_page.errors, sep="\n  ")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed and "ui" in item.funcargs:
        try:
            item.funcargs["ui"].shot("failure")
        except Exception as exc:  # the page may be gone; the failure itself matters more
            print(f"no failure screenshot: {exc}")
    return report


class Editor:
    """The page, with the gestures a user makes on the canvas and what the tests measure; numbered screenshots."""

    def __init__(self, page, artifacts: Path):
        self.page, self.artifacts, self.shots = page, artifacts, 0
        self.pane = page.locator(".react-flow__pane")

    # Screenshots and waits

    def shot(self, name: str) -> Path:
        self.shots += 1
        path = self.artifacts / f"{self.shots:02d}-{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def frames(self, count: int = 3) -> None:
        """Wait for ``count`` animation frames: measurements and the re-render they cause are done."""
        self.page.evaluate("n => new Promise(done => { const tick = k => k ? requestAnimationFrame(() => tick(k - 1))"
                           " : done(); tick(n); })", count)

    def view_still(self) -> None:
        """Wait until the canvas's view (pan and zoom) has not moved for 10 frames: an animated fit is over."""
        self.page.evaluate("""() => new Promise(done => {
            const view = document.querySelector('.react-flow__viewport');
            let last = view.style.transform, still = 0;
            const tick = () => {
              still = view.style.transform === last ? still + 1 : 0;
              last = view.style.transform;
              still >= 10 ? done() : requestAnimationFrame(tick);
            };
            requestAnimationFrame(tick);
          })""")

    def show_all(self) -> None:
        """Zoom to fit (the toolbar's button): every node in view, however small."""
        self.page.get_by_role("button", name="Zoom to fit").click()
        self.view_still()

    def settled(self) -> None:
        """Wait until a loaded workflow has been measured, laid out if it had to be, and fitted to the view."""
        self.page.locator('.canvas[data-layout="settled"]').wait_for(state="attached")
        self.frames()

    def dismiss_toasts(self) -> None:
        """Close the corner messages so they hide nothing in the next screenshot."""
        while (close := self.page.locator('[data-testid="toast"] button[aria-label="Dismiss"]')).count():
            close.first.click()

    def open(self, base_url: str, workflow_id: str | None = None, node_count: int | None = None) -> None:
        """Load the editor (on a saved workflow) and wait for the palette and, if given, ``node_count`` nodes."""
        self.page.goto("about:blank")  # from another workflow's page, a new hash alone would not reload the editor
        self.page.goto(base_url + "/" + (f"#/workflows/{workflow_id}" if workflow_id else ""))
        self.page.get_by_test_id("palette-drop_nulls").wait_for()
        if node_count is not None:
            self.wait_nodes(node_count)
            self.settled()

    def wait_nodes(self, count: int) -> None:
        self.page.wait_for_function("n => document.querySelectorAll('.react-flow__node').length === n", arg=count)

    # Nodes and gestures

    def node(self, node_id: str):
        return self.page.locator(f'.react-flow__node[data-id="{node_id}"]')

    def node_ids(self) -> list[str]:
        return self.page.locator(".react-flow__node").evaluate_all("els => els.map(e => e.dataset.id)")

    def drop(self, node_type: str, x: float, y: float, *, over_card: bool = False) -> str:
        """Drag ``node_type`` from the palette onto the canvas at (x, y) (pane coordinates); its new id.

        ``over_card``: the point is under the empty canvas's card (Playwright would refuse to drop there).
        """
        before = set(self.node_ids())
        self.page.get_by_test_id(f"palette-{node_type}").drag_to(self.pane, target_position={"x": x, "y": y},
                                                                force=over_card)
        self.wait_nodes(len(before) + 1)
        (new,) = set(self.node_ids()) - before
        assert new.startswith(node_type), f"dropping {node_type} added {new}"
        return new

    def move(self, node_id: str, x: float, y: float) -> None:
        """Drag a node by its header so that the header's centre lands on (x, y) in pane coordinates."""
        header = self.node(node_id).locator(".fz-node-header")
        box, pane = header.bounding_box(), self.pane.bounding_box()
        self.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        self.page.mouse.down()
        self.page.mouse.move(pane["x"] + x, pane["y"] + y, steps=10)
        self.page.mouse.up()

    def connect(self, source: str, source_port: str, target: str, target_port: str) -> str:
        """Drag from an output handle to an input handle with the mouse; the new edge's id."""
        edge_id = f"{source}.{source_port}->{target}.{target_port}"
        start = self.node(source).locator(f'.react-flow__handle.source[data-handleid="{source_port}"]')
        end = self.node(target).locator(f'.react-flow__handle.target[data-handleid="{target_port}"]')
        a, b = start.bounding_box(), end.bounding_box()
        self.page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
        self.page.mouse.down()
        self.page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=12)
        self.page.mouse.up()
        self.edge(edge_id).wait_for(state="attached")
        return edge_id

    def edge(self, edge_id: str):
        return self.page.locator(f'.react-flow__edge[data-id="{edge_id}"]')

    def in_view(self, node_id: str) -> bool:
        """Whether the node's title is inside the visible part of the canvas (not under a panel or the top bar)."""
        label = self.node(node_id).locator(".fz-node-label").bounding_box()
        view = self.page.locator(".react-flow").bounding_box()
        return (view["x"] <= label["x"] and label["x"] + label["width"] <= view["x"] + view["width"]
                and view["y"] <= label["y"] and label["y"] + label["height"] <= view["y"] + view["height"])

    def select(self, node_id: str) -> None:
        """Click the node's title (zooming out first if it is out of view, as a user would), then wait for the
        inspector to show it."""
        if not self.in_view(node_id):
            self.show_all()
        self.node(node_id).locator(".fz-node-label").click()
        self.page.locator(".node-header-meta", has_text=node_id).wait_for()

    def checkbox(self, node_id: str, field: str, column: str):
        group = self.page.locator(f"#param-{node_id}-{field}")
        return group.locator("label.check-item", has=self.page.locator("span", has_text=re.compile(
            f"^{re.escape(column)}$"))).locator("input[type=checkbox]")

    def checklist_columns(self, node_id: str, field: str) -> list[str]:
        group = self.page.locator(f"#param-{node_id}-{field}")
        group.locator("label.check-item").first.wait_for()
        return group.locator("label.check-item > span:first-of-type").all_inner_texts()

    # What the tests measure

    def boxes(self) -> dict[str, dict]:
        """Each node's box on screen."""
        return self.page.locator(".react-flow__node").evaluate_all(
            "els => Object.fromEntries(els.map(e => { const r = e.getBoundingClientRect();"
            " return [e.dataset.id, {x: r.x, y: r.y, w: r.width, h: r.height}]; }))")

    def overlaps(self) -> list[tuple[str, str]]:
        """Pairs of nodes whose boxes on screen overlap."""
        boxes = self.boxes()
        ids = sorted(boxes)
        return [(a, b) for i, a in enumerate(ids) for b in ids[i + 1:] if _overlap(boxes[a], boxes[b])]

    def title_sizes(self) -> dict[str, float]:
        """Each node title's font size as seen on screen (its CSS size times the canvas zoom), in px."""
        return self.page.locator(".react-flow__node").evaluate_all(
            "els => Object.fromEntries(els.map(e => { const t = e.querySelector('.fz-node-label');"
            " return [e.dataset.id, parseFloat(getComputedStyle(t).fontSize)"
            " * t.getBoundingClientRect().width / t.offsetWidth]; }))")

    def zoom(self) -> float:
        transform = self.page.locator(".react-flow__viewport").evaluate("v => v.style.transform")
        return float(re.search(r"scale\(([\d.]+)\)", transform).group(1))

    def post(self, base_url: str, path: str, body: dict) -> dict:
        response = self.page.request.post(base_url + path, data=json.dumps(body),
                                          headers={"Content-Type": "application/json"})
        assert response.ok, f"POST {path}: {response.status} {response.text()}"
        return response.json()


def _overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]
