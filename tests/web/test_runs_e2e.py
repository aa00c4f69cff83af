"""A run that fails, in a real headless Chromium against the real app, the run executed on Prefect.

Issue 9: the run summary and the run history say why a run failed (the node, its message), and a click on
it selects that node; run ids are shown by their distinctive tail everywhere; the warnings a node reported
during the run show on it, with their fix; the status pills the run adds never make nodes overlap.
"""

from __future__ import annotations

RUN_TIMEOUT_MS = 240_000  # a whole run on Prefect, on a busy machine


def test_failed_run_says_why_and_nodes_stay_apart(editor_prerequisites, flowza_worker, flowza_env, live_app,
                                                  browser_page, ui):
    page = ui.page
    # Ages with '?' where unknown (a warning: the loader suggests it as a missing-value marker), and a split
    # on a column the table does not have (the run fails there).
    rows = [f"{30 + i % 40 if i % 5 else '?'},{10 + i * 1.5},{i % 2}" for i in range(60)]
    (flowza_env["data"] / "ages.csv").write_text("age,fare,survived\n" + "\n".join(rows) + "\n")
    # Stacked 110 px apart: enough for the nodes as drawn, not once the run adds pills to them.
    nodes = [("load", "csv_loader", "Passengers", {"file_path": "ages.csv"}),
             ("split", "train_test_split", "Split", {"target_column": "outcome"}),
             ("train", "train_logreg", "Logistic regression", {}),
             ("evaluate", "evaluate", "Evaluate", {})]
    workflow = {
        "name": "Fails at the split",
        "nodes": [{"id": i, "type": t, "position": {"x": 0, "y": 110 * k}, "data": {"label": label},
                   "parameters": p} for k, (i, t, label, p) in enumerate(nodes)],
        "connections": [{"source": "load", "target": "split"},
                        {"source": "split", "sourceHandle": "train", "target": "train"},
                        {"source": "train", "target": "evaluate"},
                        {"source": "split", "sourceHandle": "test", "target": "evaluate", "targetHandle": "test"}],
    }
    saved = ui.post(live_app, "/api/workflows/", workflow)
    ui.open(live_app, saved["id"], node_count=len(nodes))
    assert ui.overlaps() == []  # as posted: not laid out again

    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function(
        """() => ['Completed', 'Failed', 'Cancelled'].includes(
                   document.querySelector('[data-testid="run-status"]')?.textContent)""", timeout=RUN_TIMEOUT_MS)
    assert page.get_by_test_id("run-status").inner_text() == "Failed"
    page.get_by_test_id("warnings-load").wait_for()  # the final record, with the loader's warning
    ui.frames()
    assert ui.overlaps() == [], f"overlapping nodes after the run: {ui.overlaps()}"
    ui.dismiss_toasts()
    ui.shot("run-failed")

    # Why, in the run summary: the failed node and its message, as the API records them.
    (run,) = page.request.get(f"{live_app}/api/runs/?workflow_id={saved['id']}").json()
    error = run.get("error") or {"node_id": "split", **run["nodes"]["split"]["error"]}
    assert error["node_id"] == "split", error
    summary = page.locator(".run-summary")
    failure = summary.get_by_test_id("run-failure")
    assert failure.inner_text() == f"Split: {error['message']}"
    assert "outcome" in error["message"], error
    short = run["run_id"].replace("-", "")[-8:]
    assert summary.locator(".run-summary-id").inner_text().startswith(f"Run {short} ")
    failure.click()
    page.locator(".node-header-meta", has_text="split").wait_for()  # the failed node is selected
    assert ui.node("split").locator(".fz-node.selected").count() == 1
    page.get_by_role("tab", name="Results", selected=True).wait_for()

    # ... and in the run history, under the same short id.
    page.keyboard.press("Escape")
    page.get_by_role("heading", name="Workflow").wait_for()  # nothing selected
    page.get_by_role("tab", name="Runs").click()
    row = page.get_by_test_id(f"run-row-{run['run_id']}")
    row.get_by_test_id("run-failure").filter(has_text=error["message"]).wait_for()
    assert row.get_by_role("button", name=f"Show run {short}").inner_text() == short
    row.get_by_test_id("run-failure").click()
    page.locator(".node-header-meta", has_text="split").wait_for()
    ui.shot("run-history-failure")

    # The loader's warning from the run, fixed in one click (selecting the failed node centred it: the
    # loader above it is under the top bar, and selecting it zooms out first).
    ui.select("load")
    page.get_by_role("tab", name="Parameters").click()
    warnings = page.get_by_test_id("node-warnings")
    warnings.get_by_text("'?'", exact=False).wait_for()
    warnings.get_by_role("button", name="Apply fix").click()
    page.get_by_test_id("warnings-load").wait_for(state="detached")
    assert page.locator("#param-load-na_values").input_value() == "?"
    ui.shot("run-warning-fixed")
    assert browser_page.errors == []
