"""Named connections in the editor, in a real headless Chromium against the real app, runs executed on Prefect.

Issue 12: a PostgreSQL connection is added on the Connections page (its URL, password included, never shown
again), picked by name in the parameter forms of db_write and sql_query, and used by real runs against this
machine's PostgreSQL: db_write's JSON output and sql_query's table show in the Results tab. Also: a query is
typed in a monospace text area, an object parameter in a JSON editor that shows its parse error, json/text ports
have colours of their own, http_request's optional ``values`` input is not reported as unconnected, and its
JSON and text outputs (from a real HTTP server started by the test) show foldable and copyable.

Two runs: sql_query has no input, so in one run with db_write nothing would order them; the query runs in a
workflow of its own once the table is written.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy.engine import make_url

RUN_TIMEOUT_MS = 240_000  # a whole run on Prefect, on a busy machine
PASSWORD = "planted-Pw-7f3a9c"  # this machine's PostgreSQL trusts local connections and ignores it
ANSWER = {"greeting": "hello", "items": [1, 2, 3], "nested": {"deep": {"deeper": True}}}


@pytest.fixture
def api_answering(monkeypatch):
    """A real HTTP server on 127.0.0.1 answering every GET with ``ANSWER`` as JSON; its URL. Loopback targets are
    allowed (FLOWZA_HTTP_ALLOW_PRIVATE) for this test's app and worker."""
    from flowza_core.settings import get_settings

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(ANSWER, indent=1).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    monkeypatch.setenv("FLOWZA_HTTP_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="test-http-api", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    get_settings.cache_clear()


def run_in_editor(page, live_app: str) -> str:
    """Click Run, wait until the run panel shows that run finished; its record."""
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/execute")) as started:
        page.get_by_role("button", name="Run", exact=True).click()
    assert started.value.ok, started.value.text()
    run_id = started.value.json()["run_id"]
    short = run_id.replace("-", "")[-8:]
    page.locator(".run-summary-id", has_text=f"Run {short}").wait_for(timeout=RUN_TIMEOUT_MS)
    page.wait_for_function(
        """() => ['Completed', 'Failed', 'Cancelled'].includes(
                   document.querySelector('[data-testid="run-status"]')?.textContent)""", timeout=RUN_TIMEOUT_MS)
    run = page.request.get(f"{live_app}/api/runs/{run_id}").json()
    assert page.get_by_test_id("run-status").inner_text() == "Completed", run
    return run


def open_results(ui, node_id: str):
    ui.select(node_id)
    ui.page.get_by_role("tab", name="Results").click()
    return ui.page.get_by_test_id("results-panel")


def test_connection_picked_in_forms_and_used_by_runs(editor_prerequisites, postgres_database, flowza_worker,
                                                     flowza_env, api_answering, live_app, browser_page, ui):
    page = ui.page
    page.on("dialog", lambda dialog: dialog.accept())  # "discard unsaved changes?" when starting a new workflow
    url = make_url(postgres_database).set(password=PASSWORD).render_as_string(hide_password=False)
    assert PASSWORD in url
    ui.open(live_app)

    # 1. The Connections page, from the top bar: add a PostgreSQL connection.
    page.get_by_role("button", name="Connections", exact=True).click()
    view = page.get_by_role("dialog", name="Connections")
    view.get_by_role("heading", name="No connections yet").wait_for()
    view.locator("#connection-kind").select_option("postgresql")
    view.locator("#connection-name").fill("warehouse")
    secret = view.locator("#connection-secret-url")
    assert secret.get_attribute("type") == "password"
    secret.fill("mysql://someone:other-secret@127.0.0.1/shop")  # refused by the API (422), said in the form
    view.get_by_role("button", name="Save connection").click()
    refused = view.get_by_role("alert").filter(has_text="Could not save the connection")
    refused.wait_for()
    assert "must be a PostgreSQL URL" in refused.inner_text() and "other-secret" not in refused.inner_text()
    secret.fill(url)
    view.get_by_role("button", name="Save connection").click()
    row = view.get_by_test_id("connection-row-warehouse")
    row.wait_for()
    assert "PostgreSQL" in row.inner_text() and "url" in row.inner_text()  # the secret field is set...
    assert secret.input_value() == ""  # ...the form forgot it...
    for shown in (page.locator("body").inner_text(), page.content()):  # ...and it is nowhere on the page
        assert PASSWORD not in shown and url not in shown
    listed = page.request.get(f"{live_app}/api/connections").text()
    assert PASSWORD not in listed and "warehouse" in listed
    ui.shot("connection-added")
    view.get_by_role("button", name="Close").click()
    view.wait_for(state="detached")

    # 2. sample_dataset (iris) -> db_write, the connection picked in db_write's form; run it.
    workflow = {
        "name": "Iris into PostgreSQL",
        "nodes": [{"id": "iris", "type": "sample_dataset", "position": {"x": 0, "y": 0}, "data": {"label": "Iris"},
                   "parameters": {"name": "iris"}},
                  {"id": "write", "type": "db_write", "position": {"x": 320, "y": 0}, "data": {"label": "Write iris"},
                   "parameters": {"table": "iris"}}],
        "connections": [{"source": "iris", "target": "write"}],
    }
    saved = ui.post(live_app, "/api/workflows/", workflow)
    ui.open(live_app, saved["id"], node_count=2)
    ui.select("write")
    page.get_by_role("tab", name="Parameters").click()
    picker = page.locator("#param-write-connection")
    assert picker.evaluate("e => e.tagName") == "SELECT"
    page.get_by_role("button", name="New PostgreSQL connection…").wait_for()
    picker.select_option("warehouse")
    page.get_by_test_id("problems-write").wait_for(state="detached")  # validation is satisfied
    ui.shot("db-write-form")
    run_in_editor(page, live_app)

    results = open_results(ui, "write")
    output = results.get_by_test_id("output-json")
    tree = output.get_by_test_id("json-output")
    tree.wait_for()
    assert output.locator(".kind-label").inner_text() == "JSON"
    assert re.search(r'"rows_written": 150,?\n', tree.inner_text()), tree.inner_text()
    assert '"table": "iris"' in tree.inner_text()
    ui.shot("db-write-json-output")

    # 3. A new workflow with sql_query: the picker, the query in a monospace text area, a JSON editor.
    page.get_by_role("button", name="New", exact=True).click()
    ui.wait_nodes(0)
    query = ui.drop("sql_query", 300, 200, over_card=True)
    ui.select(query)
    page.get_by_role("tab", name="Parameters").click()
    page.locator(f"#param-{query}-connection").select_option("warehouse")
    text = page.locator(f"#param-{query}-query")
    assert text.evaluate("e => e.tagName") == "TEXTAREA"
    assert "monospace" in text.evaluate("e => getComputedStyle(e).fontFamily")
    text.fill("SELECT count(*) AS n\nFROM iris")
    bound = page.locator(f"#param-{query}-parameters")
    bound.fill('{"limit": ')
    problem = page.locator('[data-field="parameters"] .field-error', has_text="Not valid JSON")
    problem.wait_for()
    bound.fill('{"unused": 1}')
    problem.wait_for(state="detached")
    bound.fill("")
    page.get_by_test_id(f"problems-{query}").wait_for(state="detached")
    ui.shot("sql-query-form")
    run_in_editor(page, live_app)

    results = open_results(ui, query)
    table = results.get_by_test_id("output-dataset")
    table.locator("tbody tr").first.wait_for()
    headers = [t.split()[0] for t in table.locator("thead th").all_inner_texts()]  # a name, then its dtype
    assert headers == ["#", "n"], headers
    assert table.locator("tbody tr").count() == 1
    cells = [t.strip() for t in table.locator("tbody tr").first.locator("td").all_inner_texts()]
    assert cells[-1] == "150", cells
    ui.shot("sql-query-table")

    # 4. http_request: its json and text ports have their own colours; its optional input is not a problem.
    page.get_by_role("button", name="New", exact=True).click()
    ui.wait_nodes(0)
    http = ui.drop("http_request", 300, 200, over_card=True)
    badge = page.get_by_test_id(f"problems-{http}")
    badge.wait_for()  # the URL is required
    problems = badge.get_attribute("title")
    assert "url" in problems and "values" not in problems, problems
    colours = {port: ui.node(http).locator(f'.react-flow__handle[data-handleid="{port}"]').evaluate(
        "e => getComputedStyle(e).backgroundColor") for port in ("values", "json", "text", "table")}
    assert colours["values"] == colours["json"]
    assert len({colours["json"], colours["text"], colours["table"]}) == 3, colours
    other = page.evaluate("""() => { const probe = document.createElement('span');
        probe.style.background = 'var(--port-other)'; document.body.append(probe);
        const colour = getComputedStyle(probe).backgroundColor; probe.remove(); return colour; }""")
    assert other not in colours.values(), colours  # none falls back to the colour of unknown types
    # Its form: the http connection picker (optional), dict parameters and the body typed as JSON.
    page.get_by_role("tab", name="Parameters").click()
    assert page.locator(f"#param-{http}-connection").evaluate("e => e.tagName") == "SELECT"
    page.get_by_role("button", name="New HTTP API connection…").wait_for()
    for field in ("headers", "query", "json_body", "form_body"):
        assert page.locator(f"#param-{http}-{field}").evaluate("e => e.tagName") == "TEXTAREA", field
    headers = page.locator(f"#param-{http}-headers")
    headers.fill('["not", "an object"]')
    page.locator('[data-field="headers"] .field-error', has_text="Must be a JSON object").wait_for()
    headers.fill("")
    ui.shot("http-request-ports")

    # Run it against the test's HTTP server: its JSON, foldable, and its text, copied with a click.
    page.locator(f"#param-{http}-url").fill(api_answering + "/greeting")
    badge.wait_for(state="detached")
    run_in_editor(page, live_app)
    results = open_results(ui, http)
    tree = results.get_by_test_id("output-json").get_by_test_id("json-output")
    tree.wait_for()
    shown = tree.inner_text()
    assert '"greeting": "hello",' in shown and '"deeper": true' not in shown, shown  # two levels open at first
    assert tree.locator("summary", has_text='"deep"').inner_text().split() == ['"deep":', "{", "1", "key", "}"]
    tree.locator("summary", has_text='"deep"').click()
    tree.get_by_text('"deeper": true').wait_for()
    tree.locator("summary").first.click()  # fold it all
    assert tree.inner_text().split() == ["{", "3", "keys", "}"], tree.inner_text()
    text = results.get_by_test_id("output-text")
    assert json.loads(text.get_by_test_id("text-output").inner_text()) == ANSWER
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    text.get_by_role("button", name="Copy").click()
    page.get_by_test_id("toast").filter(has_text="Text copied.").wait_for()
    assert json.loads(page.evaluate("() => navigator.clipboard.readText()")) == ANSWER
    ui.shot("http-request-results")

    # 5. Replace its secret (the same database, another password), then delete it after a confirmation.
    page.get_by_role("button", name="Connections", exact=True).click()
    view.get_by_role("button", name="Replace the secret of warehouse").click()
    replace = page.get_by_role("dialog", name="Replace the secret of warehouse")
    replaced = url.replace(PASSWORD, PASSWORD + "-2")
    replace.locator("#replace-secret-url").fill(replaced)
    replace.get_by_role("button", name="Replace").click()
    replace.wait_for(state="detached")
    page.get_by_test_id("toast").filter(has_text="The secret of warehouse was replaced.").wait_for()
    for shown in (page.locator("body").inner_text(), page.content()):
        assert PASSWORD not in shown
    view.get_by_test_id("connection-row-warehouse").get_by_role("button", name="Delete warehouse").click()
    page.get_by_role("dialog", name="Delete warehouse?").get_by_role("button", name="Delete").click()
    view.get_by_test_id("connection-row-warehouse").wait_for(state="detached")
    view.get_by_role("heading", name="No connections yet").wait_for()
    assert page.request.get(f"{live_app}/api/connections").json() == []
    ui.shot("connection-deleted")
    # The only console error: Chromium's line for the refused save of step 1.
    refused = [e for e in browser_page.errors if "status of 422" in e and "/api/connections" in e]
    assert len(refused) == 1 and len(browser_page.errors) == 1, browser_page.errors
