"""Issue 11 in the editor, in a real headless Chromium against the real app (no runs: no Prefect needed).

Export: a template opened from the gallery and saved is downloaded through the top bar's Export menu as a
Python script (plain pandas, no Flowza import) and as a Jupyter notebook, under the names the API gives; a
workflow with a node that has no plain-Python version says so by name after its export.

Describe your pipeline: the issue's sentence, on an uploaded Titanic CSV that has a ``name`` column chosen
in the dataset picker, becomes a workflow on the canvas (unsaved, the nodes and positions the API answered)
with its explanation shown; a sentence naming a column the shipped Titanic sample lacks is refused with
the API's message (the column and its near matches) and the sentence stays for fixing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from flows.export import slug

ROOT = Path(__file__).resolve().parents[2]
TITANIC = ROOT / "examples" / "data" / "titanic.csv"
TEMPLATE = "classification"  # examples/classification.json: Titanic, logistic regression
SENTENCE = "predict survived from titanic with xgboost, drop the name column, fill missing ages"
MISSING_COLUMN = "cabin_number"  # not a column of the shipped Titanic sample
GENERATE = "/api/ai/generate-workflow"


def failed_request_to(path: str, message: str) -> bool:
    """Chromium logs every 4xx answer as a console error; a refusal of ``path`` is expected, nothing else."""
    return "Failed to load resource" in message and path in message


def test_export_menu_downloads_the_saved_workflow_as_script_and_notebook(editor_prerequisites, live_app,
                                                                          browser_page, ui, tmp_path):
    page = ui.page
    ui.open(live_app)
    template = next(t for t in page.request.get(live_app + "/api/workflows/templates/").json()
                    if t["id"] == TEMPLATE)

    # Before the first save only JSON can be exported: the code is made from the saved version.
    page.get_by_role("button", name="Templates", exact=True).click()
    page.get_by_test_id(f"template-{TEMPLATE}").get_by_role("button", name="Use template").click()
    ui.wait_nodes(len(template["nodes"]))
    ui.settled()
    page.get_by_role("button", name="Export", exact=True).click()
    menu = page.get_by_role("menu", name="Export formats")
    assert menu.get_by_role("menuitem", name="Python script (.py)").is_disabled()
    assert menu.get_by_role("menuitem", name="Jupyter notebook (.ipynb)").is_disabled()
    assert menu.get_by_role("menuitem", name="Workflow JSON (.json)").is_enabled()
    ui.shot("export-menu-unsaved")
    page.keyboard.press("Escape")
    menu.wait_for(state="detached")

    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_test_id("save-state").filter(has_text="Saved · v1").wait_for()
    ui.dismiss_toasts()

    # The script: named after the workflow, plain pandas, no Flowza.
    script = export_through_menu(ui, "Python script (.py)", tmp_path)
    assert script.name == f"{slug(template['name'])}.py"
    code = script.read_text()
    assert "import pandas" in code
    assert not re.search(r"^\s*(import flowza|from flowza\b)", code, re.MULTILINE), code[:2000]
    assert "flowza" not in {line.split()[1].split(".")[0] for line in code.splitlines()
                            if line.startswith(("import ", "from "))}
    compile(code, script.name, "exec")  # valid Python

    # The notebook: JSON with cells, a markdown heading per node.
    notebook = export_through_menu(ui, "Jupyter notebook (.ipynb)", tmp_path)
    assert notebook.name == f"{slug(template['name'])}.ipynb"
    book = json.loads(notebook.read_text())
    assert book["nbformat"] == 4 and book["cells"]
    kinds = {cell["cell_type"] for cell in book["cells"]}
    assert kinds == {"markdown", "code"}, kinds
    headings = "\n".join("".join(c["source"]) for c in book["cells"] if c["cell_type"] == "markdown")
    for node in template["nodes"]:
        assert node["type"] in headings, f"no heading names {node['id']} ({node['type']})"
    ui.shot("exported")

    # Unsaved changes are saved first (as Run does): the export is of what the canvas shows.
    page.get_by_label("Workflow name").fill("Titanic survival, renamed")
    page.get_by_test_id("save-state").filter(has_text="Unsaved changes").wait_for()
    renamed = export_through_menu(ui, "Python script (.py)", tmp_path)
    assert renamed.name == "titanic_survival_renamed.py"
    page.get_by_test_id("save-state").filter(has_text="Saved · v2").wait_for()

    # A node with no plain-Python version is exported as a stub that raises, and the editor names it.
    definition = json.loads((ROOT / "examples" / f"{TEMPLATE}.json").read_text())
    definition["name"] = "With a general node"
    definition["nodes"].append({"id": "wait", "type": "sleep_for_test", "position": {"x": 110, "y": 260},
                                "data": {"label": "Wait a moment"}, "parameters": {"seconds": 0}})
    first = definition["connections"][0]
    assert (first["source"], first["target"]) == ("load", "clean"), first
    definition["connections"][0:1] = [{"source": "load", "target": "wait"}, {"source": "wait", "target": "clean"}]
    saved = ui.post(live_app, "/api/workflows/", definition)
    ui.open(live_app, saved["id"], len(definition["nodes"]))
    stubbed = export_through_menu(ui, "Python script (.py)", tmp_path)
    assert stubbed.name == "with_a_general_node.py"
    assert "NotImplementedError" in stubbed.read_text()
    notice = page.get_by_test_id("toast").filter(has_text="exported as stubs that raise")
    notice.wait_for()
    assert "Wait a moment (wait)" in notice.inner_text()
    ui.shot("stub-notice")
    assert browser_page.errors == []


def export_through_menu(ui, item: str, folder: Path) -> Path:
    """Choose ``item`` in the Export menu; the downloaded file, saved under the name the browser was given."""
    page = ui.page
    page.get_by_role("button", name="Export", exact=True).click()
    with page.expect_download() as download:
        page.get_by_role("menu", name="Export formats").get_by_role("menuitem", name=item).click()
    name = download.value.suggested_filename
    assert download.value.failure() is None
    target = folder / name
    download.value.save_as(target)
    return target


def test_describe_your_pipeline_places_a_generated_workflow_and_shows_refusals(editor_prerequisites, live_app,
                                                                             browser_page, ui, tmp_path):
    page = ui.page
    # The shipped Titanic sample has no passenger names: an uploaded copy with a `name` column has.
    named = tmp_path / "titanic_named.csv"
    frame = pd.read_csv(TITANIC)
    frame.insert(0, "name", [f"Passenger {i}" for i in range(len(frame))])
    frame.to_csv(named, index=False)
    uploaded = page.request.post(live_app + "/api/upload", multipart={
        "file": {"name": named.name, "mimeType": "text/csv", "buffer": named.read_bytes()}})
    assert uploaded.ok, uploaded.text()
    dataset = uploaded.json()

    ui.open(live_app)
    # Reachable from the empty canvas (and from the top bar, used below).
    page.locator(".empty-card").get_by_role("button", name="Describe your pipeline").click()
    dialog = page.get_by_role("dialog", name="Describe your pipeline")
    sentence = dialog.get_by_label("What should the workflow do?")
    picker = dialog.get_by_label("Data")
    page.wait_for_function("id => [...document.querySelectorAll('#describe-dataset option')]"
                           ".some(o => o.value === id)", arg=dataset["id"])
    assert picker.input_value() == ""  # by default: the shipped sample the sentence names
    picker.select_option(dataset["id"])
    sentence.fill(SENTENCE)
    ui.shot("describe-filled")
    with page.expect_response(lambda r: r.url.endswith(GENERATE)) as answer:
        dialog.get_by_role("button", name="Generate").click()
    assert answer.value.status == 200, answer.value.text()
    generated = answer.value.json()
    workflow = generated["workflow"]
    dialog.wait_for(state="detached")

    # On the canvas for review: the nodes answered, a new unsaved workflow, and how the sentence was read.
    ui.wait_nodes(len(workflow["nodes"]))
    ui.settled()
    assert sorted(ui.node_ids()) == sorted(n["id"] for n in workflow["nodes"])
    types = page.locator(".fz-node-type").all_inner_texts()
    assert sorted(types) == sorted(n["type"] for n in workflow["nodes"])
    for expected in ("csv_loader", "drop_columns", "impute", "train_test_split", "train_xgboost"):
        assert expected in types, types
    drop = next(n for n in workflow["nodes"] if n["type"] == "drop_columns")
    assert "name" in drop["parameters"]["columns"], drop
    loader = next(n for n in workflow["nodes"] if n["type"] == "csv_loader")
    assert loader["parameters"].get("dataset_id") == dataset["id"], loader
    assert page.get_by_test_id("save-state").inner_text() == "Unsaved changes"
    review = page.get_by_role("region", name="Generated workflow")
    explanation = review.get_by_test_id("generated-explanation")
    assert generated["explanation"] and explanation.inner_text().strip() == generated["explanation"].strip()
    for warning in generated["warnings"]:
        review.get_by_role("list", name="Generation warnings").get_by_text(warning, exact=True).wait_for()
    ui.shot("generated")

    # A target column that does not exist: the API's refusal is shown, the sentence stays, the canvas is untouched.
    page.get_by_role("button", name="Describe your pipeline").first.click()
    assert sentence.input_value() == SENTENCE  # kept from the last time
    picker.select_option("")
    refused_sentence = f"predict the {MISSING_COLUMN} from titanic with xgboost"
    sentence.fill(refused_sentence)
    with page.expect_response(lambda r: r.url.endswith(GENERATE)) as answer:
        dialog.get_by_role("button", name="Generate").click()
    assert answer.value.status == 422, answer.value.text()
    refusal = answer.value.json()
    assert refusal["code"] == "COLUMN_NOT_FOUND", refusal
    alert = dialog.get_by_role("alert")
    alert.wait_for()
    assert refusal["message"] in alert.inner_text()
    assert MISSING_COLUMN in alert.inner_text()
    assert sentence.input_value() == refused_sentence
    assert sentence.get_attribute("aria-invalid") == "true"
    assert dialog.get_by_role("button", name="Generate").is_enabled()
    assert sorted(ui.node_ids()) == sorted(n["id"] for n in workflow["nodes"])
    ui.shot("refused")

    unexpected = [e for e in browser_page.errors if not failed_request_to(GENERATE, e)]
    assert unexpected == []
