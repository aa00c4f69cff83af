"""Warnings that do not stop a node, in a real headless Chromium against the real app (no runs needed).

Issue 9: a node's warnings found on the sample the editor previews show on the node (an amber pill, the
message on hover) and in the inspector, with "Apply fix" setting the parameters that solve it through the
ordinary, undoable edit; an uploaded CSV whose reading raised warnings opens a dialog that previews the table,
applies a fix, reads it again with it, and leaves the csv_loader on the canvas with the fix.
"""

from __future__ import annotations

IRIS_ROWS = [  # iris, five columns, the last one text
    "5.1,3.5,1.4,0.2,setosa", "4.9,3.0,1.4,0.2,setosa", "7.0,3.2,4.7,1.4,versicolor", "6.4,3.2,4.5,1.5,versicolor",
    "6.3,3.3,6.0,2.5,virginica", "5.8,2.7,5.1,1.9,virginica", "5.0,3.6,1.4,0.2,setosa", "5.7,2.8,4.1,1.3,versicolor",
]
COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]


def test_preview_warning_on_the_node_and_its_fix(editor_prerequisites, flowza_env, live_app, browser_page, ui):
    page = ui.page
    # Semicolons, read with the default separator: one lone column, and the loader says which to use.
    (flowza_env["data"] / "iris_semicolons.csv").write_text(
        "\n".join([";".join(COLUMNS), *(row.replace(",", ";") for row in IRIS_ROWS)]) + "\n")
    workflow = {
        "name": "Semicolons",
        "nodes": [
            {"id": "load", "type": "csv_loader", "position": {"x": 0, "y": 0}, "data": {"label": "Iris"},
             "parameters": {"file_path": "iris_semicolons.csv"}},
            {"id": "clean", "type": "drop_nulls", "position": {"x": 260, "y": 0}, "data": {"label": "Clean"},
             "parameters": {}},
        ],
        "connections": [{"source": "load", "target": "clean"}],
    }
    saved = ui.post(live_app, "/api/workflows/", workflow)
    ui.open(live_app, saved["id"], node_count=2)

    # Selecting the node after the loader previews the loader on a sample: its warning lands on it.
    ui.select("clean")
    pill = page.get_by_test_id("warnings-load")
    pill.wait_for()
    assert "separator" in pill.get_attribute("title"), pill.get_attribute("title")
    assert ui.checklist_columns("clean", "subset") == [";".join(COLUMNS)]  # what the warning is about
    assert page.get_by_test_id("problems-load").count() == 0  # a warning, not a problem
    ui.shot("warning-on-the-loader")

    # The inspector says so too, with the fix; applying it is an ordinary edit.
    ui.select("load")
    warnings = page.get_by_test_id("node-warnings")
    warnings.get_by_text("separator", exact=False).wait_for()
    ui.shot("warning-in-the-inspector")
    warnings.get_by_role("button", name="Apply fix").click()
    pill.wait_for(state="detached")
    assert page.locator("#param-load-separator").input_value() == ";"
    assert page.get_by_test_id("node-warnings").count() == 0
    ui.select("clean")
    page.wait_for_function("n => document.querySelectorAll('#param-clean-subset label.check-item').length === n",
                           arg=len(COLUMNS))
    assert ui.checklist_columns("clean", "subset") == COLUMNS
    assert page.get_by_test_id("warnings-load").count() == 0
    ui.shot("fix-applied")

    # Undo takes the fix back, and the warning with it.
    page.get_by_role("button", name="Undo").click()
    pill.wait_for()
    ui.select("load")
    assert page.locator("#param-load-separator").input_value() == ","
    assert browser_page.errors == []


def test_upload_dialog_offers_the_fix_and_reads_again(editor_prerequisites, live_app, browser_page, ui, tmp_path):
    page = ui.page
    headerless = tmp_path / "iris_no_header.csv"
    headerless.write_text("\n".join(IRIS_ROWS) + "\n")
    ui.open(live_app)

    page.get_by_label("Upload CSV", exact=True).set_input_files(str(headerless))
    dialog = page.get_by_test_id("upload-review")
    dialog.wait_for()
    (loader,) = ui.node_ids()
    warning = dialog.get_by_role("list", name="Reading warnings").get_by_role("listitem")
    warning.filter(has_text="first row looks like data").wait_for()
    table = dialog.get_by_role("table", name="First rows")
    table.locator("tbody tr").first.wait_for()
    assert table.locator("tbody tr").count() == len(IRIS_ROWS) - 1  # the first row was taken for names
    page.get_by_test_id(f"warnings-{loader}").wait_for()  # the node carries the warning meanwhile
    ui.shot("upload-review")

    warning.get_by_role("button", name="Apply fix").click()
    dialog.get_by_text("Nothing looks wrong now").wait_for()
    headers = table.locator("thead th").evaluate_all("ths => ths.map(th => th.firstChild.textContent)")
    assert headers == [f"column_{i}" for i in range(1, 6)], headers
    assert table.locator("tbody tr").count() == len(IRIS_ROWS)
    assert dialog.get_by_text(f"{len(IRIS_ROWS)} rows × 5 columns").count() == 1
    ui.shot("upload-fix-applied")
    page.get_by_role("button", name="Done").click()
    dialog.wait_for(state="detached")

    # The csv_loader on the canvas took the fix: no warning, the header switch off, undo brings both back.
    assert page.get_by_test_id(f"warnings-{loader}").count() == 0
    ui.select(loader)
    assert not page.locator(f"#param-{loader}-has_header").is_checked()
    page.get_by_role("button", name="Undo").click()
    page.get_by_test_id(f"warnings-{loader}").wait_for()
    assert page.locator(f"#param-{loader}-has_header").is_checked()
    assert browser_page.errors == []
