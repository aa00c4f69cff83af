"""How the web editor copes with a large workflow: first render and panning, 200 nodes vs 10.

Serves the real app (API + built editor from web/dist, single-user, temporary FLOWZA_HOME; no Prefect
needed) with uvicorn on a free 127.0.0.1 port, and drives Debian's Chromium (headless, 1280x800) with
Playwright. The workflows are generated: rows of 10-node chains (sample_dataset -> drop_nulls -> impute
-> normalize -> one_hot_encode -> ...) laid out on a grid, 20 rows for 200 nodes, 1 row for the 10-node
baseline; both are checked valid by ``POST /api/workflows/validate`` first.

For each size, --repeat times, each in a fresh browser context (empty cache):

(1) open: the workflow saved through the API, the page navigated to ``/#/workflows/<id>``; time from
    navigation start (``performance.now()`` = 0) to the workflow being shown: every node measured, the
    view fitted (``.canvas[data-layout="settled"]``), the nodes in view visible and painted (a
    requestAnimationFrame, then a task after it). This includes loading the page's bundle, the catalog and
    the workflow. The fit keeps titles readable (zoom >= 0.86), so 200 nodes do not all fit: the canvas
    virtualises the ones out of view (the number rendered is reported).
(2) import: the editor already open and empty, the JSON given to the "Import workflow JSON" file input;
    time from the input's change event to the same condition. This is the editor's own rendering cost.
(3) pan: after "Zoom to fit" (F) shows every node (all of them rendered, the worst case), the pane
    dragged in circles (radius 120 px) with the mouse for ~2 s, one move per ~16 ms,
    while a requestAnimationFrame loop records frame times: mean FPS and the longest frame; also how many
    frames per second showed a new viewport position (mouse moves are delivered only as fast as the page
    handles them, so this is the visible pan rate), and the renderer's main-thread time by kind
    (Chrome's Performance.getMetrics).

Note: the canvas virtualises (React Flow's onlyRenderVisibleElements) above 120 nodes; the grid is
dense enough that "Zoom to fit" (min zoom 0.15) shows all 200, so all 200 nodes are rendered while panning.

A report, not a test: one line per figure (medians over the repetitions), ratios 200/10 at the end;
exits 0 (1 only if the editor never shows the nodes or the pan does not move the canvas). Screenshots of
the imported canvases go to test-artifacts/editor-bench/. From the repository root:

    .venv/bin/python tests/benchmarks/editor_render.py [--nodes 200] [--baseline 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "editor-bench"  # the canvas of each size after import, to look at
sys.path.insert(0, str(ROOT))  # the repository root

VIEWPORT = {"width": 1280, "height": 800}
CHAIN = ["drop_nulls", "impute", "normalize", "one_hot_encode"]  # valid with their default parameters
PER_ROW = 10
DX, DY = 200, 100  # node pitch in flow units; nodes are ~176 x 82, so the 10 x 20 grid fits at zoom >= 0.3
PAN_SECONDS = 2.0
RENDER_TIMEOUT_MS = 60_000

# Runs in every page before its own scripts: sets window.__bench.opened (at load) / .imported (after the
# import input's change) to the performance.now() at which the workflow is shown (laid out and fitted,
# the nodes in view measured, visible and painted), with the number of nodes rendered.
INIT_SCRIPT = """
(() => {
  const bench = (window.__bench = {});
  const ready = () => {
    if (!document.querySelector('.canvas[data-layout="settled"]')) return false;
    const nodes = document.querySelectorAll('.react-flow__node');
    if (!nodes.length) return false;
    for (const n of nodes) if (getComputedStyle(n).visibility === 'hidden') return false;
    return true;
  };
  const painted = (key) => {
    const tick = () => {
      if (!ready()) return requestAnimationFrame(tick);
      const channel = new MessageChannel();  // a task after this frame's rendering steps: it is painted
      channel.port1.onmessage = () => {
        bench[key] = { t: performance.now(), count: document.querySelectorAll('.react-flow__node').length };
      };
      channel.port2.postMessage(0);
    };
    requestAnimationFrame(tick);
  };
  if (%s) painted('opened');
  document.addEventListener('change', (event) => {
    if (event.target.matches && event.target.matches('input[aria-label="Import workflow JSON"]')) {
      bench.importStart = performance.now();
      painted('imported');
    }
  }, true);
})();
"""

# Frame times while panning, and how many frames showed a new viewport position (the pan really moved).
FRAMES_START = """() => {
  const frames = (window.__frames = []), viewport = document.querySelector('.react-flow__viewport');
  let last = viewport.style.transform;
  window.__moved = 0;
  window.__framing = true;
  const tick = (t) => {
    frames.push(t);
    if (viewport.style.transform !== last) { last = viewport.style.transform; window.__moved++; }
    if (window.__framing) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""
FRAMES_STOP = "() => { window.__framing = false; return [window.__frames, window.__moved]; }"

# A point of the canvas where a press lands on the pane itself (not a node, edge, toolbar or mini map).
FIND_PANE_POINT = """() => {
  const pane = document.querySelector('.react-flow__pane').getBoundingClientRect();
  const cx = pane.x + pane.width / 2, cy = pane.y + pane.height / 2;
  const candidates = [];
  for (let y = pane.y + 8; y < pane.bottom - 8; y += 6)
    for (let x = pane.x + 8; x < pane.right - 8; x += 6) candidates.push([x, y]);
  candidates.sort((a, b) => Math.hypot(a[0] - cx, a[1] - cy) - Math.hypot(b[0] - cx, b[1] - cy));
  for (const [x, y] of candidates) {
    const ok = [[0, 0], [4, 0], [-4, 0], [0, 4], [0, -4]].every(([dx, dy]) =>
      document.elementFromPoint(x + dx, y + dy)?.classList.contains('react-flow__pane'));
    if (ok) return { x, y };
  }
  return null;
}"""


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def grid_workflow(count: int) -> dict:
    """Rows of 10-node chains, each starting from a sample dataset, on a DX x DY grid."""
    nodes, connections = [], []
    for i in range(count):
        row, col = divmod(i, PER_ROW)
        node_id = f"n{i:03d}"
        if col == 0:
            node = {"type": "sample_dataset", "parameters": {"name": "iris"}}
        else:
            node = {"type": CHAIN[(col - 1) % len(CHAIN)], "parameters": {}}
            connections.append({"source": f"n{i - 1:03d}", "target": node_id,
                                "sourceHandle": "dataset", "targetHandle": "dataset"})
        nodes.append({"id": node_id, **node, "position": {"x": col * DX, "y": row * DY},
                      "data": {"label": f"{node['type'].replace('_', ' ').capitalize()} {i}"}})
    return {"name": f"Render benchmark ({count} nodes)", "description": "Generated by editor_render.py",
            "nodes": nodes, "connections": connections}


class App:
    """The Flowza app in a background thread of this process."""

    def __init__(self):
        import uvicorn

        from api.main import create_app

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, name="flowza-bench-server", daemon=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_):
        self.server.should_exit = True
        self.thread.join(timeout=15)

    def post(self, path: str, body: dict) -> dict:
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json", "Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())


def page_for(browser, count: int, open_mode: bool):
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(INIT_SCRIPT % ("true" if open_mode else "false"))
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page, errors


def measure_open(browser, app: App, workflow_id: str, count: int) -> float:
    context, page, errors = page_for(browser, count, open_mode=True)
    try:
        page.goto(f"{app.url}/#/workflows/{workflow_id}", wait_until="commit")
        done = page.wait_for_function("() => window.__bench.opened", timeout=RENDER_TIMEOUT_MS).json_value()
        check_rendered(done["count"], count)
        report_errors(errors)
        return done["t"]
    finally:
        context.close()


def measure_import_and_pan(browser, app: App, path: Path, count: int) -> tuple[float, dict]:
    context, page, errors = page_for(browser, count, open_mode=False)
    try:
        page.goto(app.url + "/")
        page.get_by_test_id("palette-drop_nulls").wait_for()
        page.wait_for_timeout(300)  # let the first paint and idle work settle before timing
        page.get_by_label("Import workflow JSON", exact=True).set_input_files(str(path))
        done = page.wait_for_function("() => window.__bench.imported", timeout=RENDER_TIMEOUT_MS).json_value()
        started = page.evaluate("() => window.__bench.importStart")
        check_rendered(done["count"], count)
        page.wait_for_timeout(800)  # the validation call after the import
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{count}-nodes.png"))
        page.keyboard.press("f")  # Zoom to fit: every node in view, so every node rendered while panning
        page.wait_for_function("n => document.querySelectorAll('.react-flow__node').length === n", arg=count,
                               timeout=RENDER_TIMEOUT_MS)
        page.wait_for_timeout(800)  # the fit's animation
        page.screenshot(path=str(SHOTS / f"{count}-nodes-fitted.png"))
        pan = measure_pan(page)
        report_errors(errors)
        return done["t"] - started, pan
    finally:
        context.close()


def check_rendered(rendered: int, count: int) -> None:
    """The view shows some nodes, and no more than the workflow has (the rest are out of view)."""
    if not 0 < rendered <= count:
        raise RuntimeError(f"{rendered} nodes rendered for a workflow of {count}")
    say(f"{count} nodes: {rendered} rendered in the first view")


def measure_pan(page) -> dict:
    point = page.evaluate(FIND_PANE_POINT)
    if point is None:
        raise RuntimeError("no empty spot of the pane to start a drag from")
    x0, y0, radius = point["x"], point["y"], 120
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.mouse.move(x0, y0)
    page.mouse.down()
    before = main_thread_seconds(cdp)
    page.evaluate(FRAMES_START)
    t0 = time.perf_counter()
    moves = 0
    while (elapsed := time.perf_counter() - t0) < PAN_SECONDS:
        angle = 2 * math.pi * elapsed / 1.0  # one circle a second
        page.mouse.move(x0 + radius * math.sin(angle), y0 + radius * (1 - math.cos(angle)) * 0.5)
        moves += 1
        time.sleep(max(0.0, t0 + moves / 60 - time.perf_counter()))
    frames, moved = page.evaluate(FRAMES_STOP)
    busy = {k: v - before[k] for k, v in main_thread_seconds(cdp).items()}
    page.mouse.up()
    deltas = [b - a for a, b in itertools.pairwise(frames)]
    if not deltas or moved < moves / 4:
        raise RuntimeError(f"the pan did not move the canvas: {len(frames)} frames, {moved} moved")
    return {"fps": 1000 * len(deltas) / (frames[-1] - frames[0]), "longest_ms": max(deltas),
            "updates": 1000 * moved / (frames[-1] - frames[0]),
            "p95_ms": sorted(deltas)[int(0.95 * (len(deltas) - 1))], "median_ms": statistics.median(deltas),
            "frames": len(frames), "moves": moves, "moved": moved, "busy": busy}


def main_thread_seconds(cdp) -> dict[str, float]:
    """The renderer's main-thread time so far: all tasks, and its script, style and layout parts."""
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {"task": metrics["TaskDuration"], "script": metrics["ScriptDuration"],
            "style": metrics["RecalcStyleDuration"], "layout": metrics["LayoutDuration"]}


def busy_text(busy: dict[str, float]) -> str:
    other = busy["task"] - busy["script"] - busy["style"] - busy["layout"]
    return (f"{busy['task']:.2f} s: script {busy['script']:.2f}, style {busy['style']:.2f}, "
            f"layout {busy['layout']:.2f}, other (paint, compositing, GC) {other:.2f}")


def report_errors(errors: list[str]) -> None:
    for error in errors:
        say(f"browser console error: {error}")


def run(args, root: Path) -> int:
    from playwright.sync_api import sync_playwright

    if not (ROOT / "web" / "dist" / "index.html").is_file():
        say("web/dist/index.html is missing: build the editor first (cd web && npm ci && npm run build)")
        return 1
    chromium = os.environ.get("FLOWZA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    results: dict[int, dict] = {}
    with App() as app, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        say(f"app at {app.url}, {browser.browser_type.name} {browser.version}")
        for count in (args.baseline, args.nodes):
            workflow = grid_workflow(count)
            problems = app.post("/api/workflows/validate", workflow)["problems"]
            errors = [p for p in problems if p.get("severity") != "warning"]
            if errors:
                raise RuntimeError(f"the generated {count}-node workflow is invalid: {errors[:3]}")
            workflow_id = app.post("/api/workflows/", workflow)["id"]
            path = root / f"workflow-{count}.json"
            path.write_text(json.dumps(workflow))
            measure_open(browser, app, workflow_id, count)  # warm-up: server caches, Chromium's code cache
            opens, imports, pans = [], [], []
            for rep in range(args.repeat):
                opens.append(measure_open(browser, app, workflow_id, count))
                took, pan = measure_import_and_pan(browser, app, path, count)
                imports.append(took)
                pans.append(pan)
                say(f"{count} nodes, rep {rep + 1}: open {opens[-1]:.0f} ms, import {took:.0f} ms, pan "
                    f"{pan['fps']:.1f} fps ({pan['frames']} frames, median {pan['median_ms']:.1f} ms, longest "
                    f"{pan['longest_ms']:.1f} ms; {pan['moves']} mouse moves sent, {pan['moved']} frames moved; "
                    f"main thread busy {busy_text(pan['busy'])})")
            results[count] = {"open": statistics.median(opens), "import": statistics.median(imports),
                              "fps": statistics.median(p["fps"] for p in pans),
                              "longest": statistics.median(p["longest_ms"] for p in pans),
                              "p95": statistics.median(p["p95_ms"] for p in pans),
                              "updates": statistics.median(p["updates"] for p in pans),
                              "busy": {k: statistics.median(p["busy"][k] for p in pans) for k in pans[0]["busy"]}}
        browser.close()

    small, large = results[args.baseline], results[args.nodes]
    print(f"editor render benchmark: Chromium headless {VIEWPORT['width']}x{VIEWPORT['height']}, "
          f"median of {args.repeat}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for count, f in results.items():
        for text, value in (
                ("time to first render (navigation -> workflow shown)", f"{f['open']:7.0f} ms"),
                ("import JSON -> workflow shown", f"{f['import']:7.0f} ms"),
                ("panning mean FPS", f"{f['fps']:7.1f}"),
                ("panning longest frame", f"{f['longest']:7.1f} ms (p95 {f['p95']:.1f} ms)"),
                ("panning, frames showing a new position per second", f"{f['updates']:7.1f}"),
                (f"panning, renderer main thread busy in {PAN_SECONDS:.0f} s", busy_text(f["busy"]))):
            print(f"{count:>4} nodes: {text:<56} {value}")
    ratios = {"first render": large["open"] / small["open"], "import render": large["import"] / small["import"],
              "panning FPS": large["fps"] / small["fps"], "longest frame": large["longest"] / small["longest"],
              "pan updates/s": large["updates"] / small["updates"]}
    print(f"ratio {args.nodes}/{args.baseline}: " + ", ".join(f"{name} {value:.2f}x" for name, value in ratios.items()))
    return 0


def main() -> int:
    from playwright.sync_api import Error as PlaywrightError

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=200, help="nodes in the large workflow")
    parser.add_argument("--baseline", type=int, default=10, help="nodes in the baseline workflow")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (medians are reported)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="flowza-editor-bench-"))
    (root / "data").mkdir()
    # Before the app is imported: all state in the temp dir; a Prefect port nothing listens on.
    os.environ.update(FLOWZA_HOME=str(root / "home"), FLOWZA_DATA_DIR=str(root / "data"),
                      FLOWZA_PREFECT_PORT=str(free_port()), PREFECT_HOME=str(root / "prefect"))
    for name in ("FLOWZA_AUTH_ENABLED", "FLOWZA_DATABASE_URL", "PREFECT_API_URL", "MLFLOW_TRACKING_URI"):
        os.environ.pop(name, None)
    try:
        return run(args, root)
    except (RuntimeError, PlaywrightError) as error:
        say(f"benchmark failed: {error}")
        return 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
