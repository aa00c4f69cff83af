"""The web editor end to end, in a real headless Chromium against the real app, runs executed on Prefect.

The issue's acceptance test: upload the Titanic-style CSV, build load -> drop columns -> drop nulls ->
(one-hot encode) -> split -> logistic regression -> evaluate by dragging nodes from the palette and wiring
their ports with the mouse, set parameters in the inspector (the column pickers are filled from the
backend's sample), run it, watch it complete live, read accuracy and the confusion matrix in the evaluate
node's Results tab, then break a connection and see the validation error on the node.

One-hot encoding is needed: logistic regression refuses text features, and the CSV has two (Sex, Embarked);
Cabin (mostly empty, so drop nulls would remove most rows) and PassengerId (an identifier) are dropped.

Screenshots of every step go to test-artifacts/editor/ at the repository root.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
TITANIC = ROOT / "examples" / "data" / "titanic.csv"
DROPPED = ["PassengerId", "Cabin"]
TARGET = "Survived"
RUN_TIMEOUT_MS = 120_000

# Console messages that are not errors of the editor. Each entry: (regex, why it is harmless). Empty on
# purpose: the editor loads without any; add an entry only with the reason it is noise.
IGNORED_CONSOLE: list[tuple[str, str]] = []


class Editor:
    """The page, with the gestures a user makes on the canvas; screenshots numbered in order."""

    def __init__(self, page, artifacts: Path):
        self.page, self.artifacts, self.shots = page, artifacts, 0
        self.pane = page.locator(".react-flow__pane")

    def shot(self, name: str) -> Path:
        self.shots += 1
        path = self.artifacts / f"{self.shots:02d}-{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def dismiss_toasts(self) -> None:
        """Close the corner messages so they hide nothing in the next screenshot."""
        while (close := self.page.locator('[data-testid="toast"] button[aria-label="Dismiss"]')).count():
            close.first.click()

    def node(self, node_id: str):
        return self.page.locator(f'.react-flow__node[data-id="{node_id}"]')

    def node_ids(self) -> list[str]:
        return self.page.locator(".react-flow__node").evaluate_all("els => els.map(e => e.dataset.id)")

    def drop(self, node_type: str, x: float, y: float) -> str:
        """Drag ``node_type`` from the palette onto the pane at (x, y) (pane coordinates); its new id."""
        before = set(self.node_ids())
        self.page.get_by_test_id(f"palette-{node_type}").drag_to(self.pane, target_position={"x": x, "y": y})
        self.page.wait_for_function(
            "n => document.querySelectorAll('.react-flow__node').length === n", arg=len(before) + 1)
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
        self.edge(edge_id).wait_for(state="attached", timeout=5_000)
        return edge_id

    def edge(self, edge_id: str):
        return self.page.locator(f'.react-flow__edge[data-id="{edge_id}"]')

    def select(self, node_id: str) -> None:
        """Click the node's title, then wait for the inspector to show it."""
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


def expected_columns() -> tuple[list[str], list[str], int]:
    """The CSV's columns minus the dropped ones; the same after one-hot encoding; the test rows."""
    frame = pd.read_csv(TITANIC).drop(columns=DROPPED).dropna()
    kept = list(frame.columns)
    text = [c for c in kept if frame[c].dtype == object or str(frame[c].dtype) in ("str", "string")]
    encoded = list(pd.get_dummies(frame, columns=text).columns)
    return kept, encoded, math.ceil(0.2 * len(frame))


def test_build_run_and_inspect_the_titanic_workflow(editor_prerequisites, flowza_worker, live_app, browser_page,
                                                    artifacts):
    # Fixture order: the prerequisites first (skip, or fail in CI, before Prefect starts); the browser last.
    kept, encoded, test_rows = expected_columns()
    page = browser_page.page
    page.set_default_timeout(15_000)
    ui = Editor(page, artifacts)
    try:
        page.goto(live_app + "/")
        page.get_by_test_id("palette-drop_columns").wait_for()

        # 1. Upload the CSV: a csv_loader for it appears, wired to the uploaded dataset.
        page.get_by_label("Upload CSV", exact=True).set_input_files(str(TITANIC))
        load = "csv_loader_1"
        ui.node(load).wait_for()
        page.get_by_test_id("toast").filter(has_text=re.compile(r"titanic: 891 rows, 10 columns")).wait_for()
        ui.move(load, 110, 80)
        ui.select(load)
        (uploaded,) = page.request.get(live_app + "/api/datasets/").json()
        assert page.locator(f"#param-{load}-dataset_id").input_value() == uploaded["id"]
        ui.shot("uploaded-csv-loader")

        # 2. Drag the pipeline from the palette and wire it port to port.
        drop = ui.drop("drop_columns", 350, 80)
        nulls = ui.drop("drop_nulls", 590, 80)
        encode = ui.drop("one_hot_encode", 110, 270)
        split = ui.drop("train_test_split", 350, 270)
        train = ui.drop("train_logreg", 590, 270)
        evaluate = ui.drop("evaluate", 590, 470)
        ui.connect(load, "dataset", drop, "dataset")
        ui.connect(drop, "dataset", nulls, "dataset")
        ui.connect(nulls, "dataset", encode, "dataset")
        ui.connect(encode, "dataset", split, "dataset")
        split_to_train = ui.connect(split, "train", train, "train")
        ui.connect(train, "model", evaluate, "model")
        ui.connect(split, "test", evaluate, "test")
        assert page.locator(".react-flow__edge").count() == 7
        ui.shot("pipeline-wired")

        # 3. Parameters. Drop columns: the checklist offers the CSV's columns (from the backend's sample).
        ui.select(drop)
        assert ui.checklist_columns(drop, "columns") == list(pd.read_csv(TITANIC, nrows=1).columns)
        for column in DROPPED:
            ui.checkbox(drop, "columns", column).check()
        page.locator(f"#param-{drop}-columns .checklist-head", has_text="2 of 10 selected").wait_for()
        ui.shot("drop-columns-parameters")

        # Further down, the pickers offer what is left: the CSV's columns minus the dropped ones ...
        ui.select(encode)
        page.wait_for_function(
            """([id, n]) => document.querySelectorAll(`#param-${id}-columns label.check-item`).length === n""",
            arg=[encode, len(kept)])
        assert ui.checklist_columns(encode, "columns") == kept
        # ... and, after one-hot encoding (every text column by default), the split's target dropdown.
        ui.select(split)
        target = page.locator(f"#param-{split}-target_column")
        page.wait_for_function(
            """([id, n]) => document.querySelectorAll(`#param-${id}-target_column option[value]:not([value=""])`)
                            .length === n""", arg=[split, len(encoded)])
        offered = target.locator("option").evaluate_all("os => os.map(o => o.value).filter(Boolean)")
        assert offered == encoded, offered
        assert not set(DROPPED) & set(offered)
        target.select_option(TARGET)
        assert target.input_value() == TARGET
        ui.shot("split-target-chosen")
        # Nothing left to fix: no problem badge on any node.
        page.wait_for_function("() => !document.querySelector('[data-testid^=\"problems-\"]')")
        assert page.get_by_test_id("problem-count").count() == 0

        # 4. Run, and follow it live to its end over the run's WebSocket.
        events: list[dict] = []
        page.on("websocket", lambda ws: "/api/ws/runs/" in ws.url and ws.on(
            "framereceived", lambda frame: events.append(json.loads(frame))))
        page.get_by_role("button", name="Run", exact=True).click()
        page.get_by_test_id("run-status").wait_for()
        page.wait_for_function(
            """() => ['Completed', 'Failed', 'Cancelled'].includes(
                       document.querySelector('[data-testid="run-status"]')?.textContent)""",
            timeout=RUN_TIMEOUT_MS)
        ui.shot("run-finished")
        statuses = {n: ui.node(n).locator(".fz-node").get_attribute("data-status") for n in ui.node_ids()}
        run_status = page.get_by_test_id("run-status").inner_text()
        assert run_status == "Completed", f"the run ended {run_status}; nodes: {statuses}; chips: " + "; ".join(
            page.get_by_test_id("node-status").evaluate_all("cs => cs.map(c => c.title || c.textContent)"))
        assert set(statuses.values()) == {"completed"}, statuses
        live = {e["node_id"] for e in events if e["type"] == "node" and e["status"] == "completed"}
        assert live == set(statuses), f"node events received live: {sorted(live)}"
        assert {"type": "run", "status": "completed"}.items() <= events[-1].items(), events[-1]

        # The evaluate node's Results tab: accuracy and the confusion matrix.
        page.locator('button[aria-expanded="true"]', has_text="Run panel").click()  # the whole canvas again
        ui.select(evaluate)
        page.get_by_role("tab", name="Results").click()
        accuracy = page.get_by_test_id("metric-accuracy")
        accuracy.wait_for()
        value = float(accuracy.get_attribute("title"))
        assert 0.6 < value <= 1, f"accuracy {value}"
        assert accuracy.inner_text() == f"{value:.4f}"
        matrix = page.get_by_test_id("confusion-matrix")
        matrix.wait_for()
        label = matrix.locator("svg").get_attribute("aria-label")
        correct, total = map(int, re.fullmatch(r"Confusion matrix: (\d+) of (\d+) test rows.*", label).groups())
        assert total == test_rows and abs(correct / total - value) < 1e-9, (label, value, test_rows)
        assert matrix.locator("text.cell-count").count() == 4  # Survived: 0 / 1
        matrix.scroll_into_view_if_needed()
        ui.dismiss_toasts()
        ui.shot("evaluate-results")

        # 5. Break split -> train: the training node reports its missing input.
        edge = ui.edge(split_to_train)
        path = edge.locator("path.react-flow__edge-path")
        middle = path.evaluate("p => { const m = p.getPointAtLength(p.getTotalLength() / 2);"
                               " const r = p.ownerSVGElement.getScreenCTM(); "
                               " return {x: m.x * r.a + r.e, y: m.y * r.d + r.f}; }")
        page.mouse.click(middle["x"], middle["y"])
        page.locator(f'.react-flow__edge.selected[data-id="{split_to_train}"]').wait_for(state="attached")
        page.keyboard.press("Delete")
        edge.wait_for(state="detached")
        problems = page.get_by_test_id(f"problems-{train}")
        problems.wait_for()
        title = problems.get_attribute("title")
        assert "train" in title and "not connected" in title, title
        assert page.get_by_test_id(f"problems-{split}").count() == 0
        ui.select(train)
        page.get_by_role("tab", name="Parameters").click()
        inspector = page.get_by_role("complementary", name="Inspector")
        inspector.get_by_role("list", name="Problems").get_by_text("input 'train'").wait_for()  # it says so too
        inspector.get_by_text("Connect an input to choose its columns").wait_for()
        ui.shot("broken-connection-problem")
    except BaseException:
        ui.shot("failure")
        raise
    finally:
        errors = [m for m in browser_page.errors if not any(re.search(p, m) for p, _ in IGNORED_CONSOLE)]
        if errors:
            print("browser console errors:", *errors, sep="\n  ")

    # 7. No console errors nor uncaught exceptions at any point.
    assert errors == []
