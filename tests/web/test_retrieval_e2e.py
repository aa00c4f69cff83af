"""The retrieval template in the editor, in a real headless Chromium against the real app, run on Prefect.

As a user would: the "llm" OpenAI-compatible connection is saved on the Connections page (pointing at a canned
chat server started by the test on 127.0.0.1), the template "Retrieval: answer questions from documents" is picked
from the gallery (documents -> chunks -> embeddings -> vector_search -> llm_call), the search's Query is retyped in
its text area (its Metadata filter is an object typed as JSON), and Run. The Results tab shows the search's hits
(iris.rst first) and its JSON context, and the answer node shows the canned answer; the model was asked with the
typed question and the passages found.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.nodes.test_llm import API_KEY, CannedChat
from tests.web.test_connections_e2e import open_results, run_in_editor

TEMPLATE = "retrieval"  # examples/retrieval.json
TEMPLATE_NAME = "Retrieval: answer questions from documents"
NODES = {"docs", "chunk", "embed", "search", "answer"}
QUESTION = "What are the petal and sepal measurements of the iris flowers?"  # iris.rst is the closest document
ANSWER = "Sepal length and width, petal length and width, all in centimetres."


@pytest.fixture
def canned_llm(monkeypatch):
    """An OpenAI-compatible server on 127.0.0.1 answering ``ANSWER`` once; loopback targets are allowed
    (FLOWZA_HTTP_ALLOW_PRIVATE) for this test's app and worker, which read settings when they start a run."""
    from flowza_core.settings import get_settings

    monkeypatch.setenv("FLOWZA_HTTP_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    with CannedChat(ANSWER) as chat:
        yield chat
    get_settings.cache_clear()


def test_retrieval_template_answers_a_typed_question_from_the_passages_it_finds(
        editor_prerequisites, flowza_worker, flowza_env, canned_llm, live_app, browser_page, ui):
    page = ui.page
    page.on("dialog", lambda dialog: dialog.accept())  # "discard unsaved changes?", should the editor ask
    ui.open(live_app)

    # 1. The Connections page: the "llm" connection the template names, to the canned server.
    page.get_by_role("button", name="Connections", exact=True).click()
    view = page.get_by_role("dialog", name="Connections")
    view.get_by_role("heading", name="No connections yet").wait_for()
    view.locator("#connection-kind").select_option("openai")
    view.locator("#connection-name").fill("llm")
    view.locator("#connection-config-base_url").fill(canned_llm.base_url)
    view.locator("#connection-config-model").fill("canned-model")
    key = view.locator("#connection-secret-api_key")
    assert key.get_attribute("type") == "password"
    key.fill(API_KEY)
    view.get_by_role("button", name="Save connection").click()
    row = view.get_by_test_id("connection-row-llm")
    row.wait_for()
    assert "OpenAI-compatible" in row.inner_text() and canned_llm.base_url in row.inner_text()
    assert API_KEY not in page.content()
    ui.shot("llm-connection-added")
    view.get_by_role("button", name="Close").click()
    view.wait_for(state="detached")

    # 2. The gallery: the retrieval template's five nodes on the canvas, the search's context wired to the answer.
    page.get_by_role("button", name="Templates", exact=True).click()
    card = page.get_by_test_id(f"template-{TEMPLATE}")
    card.get_by_role("heading", name=TEMPLATE_NAME).wait_for()
    card.get_by_role("button", name=f"Use template {TEMPLATE_NAME}").click()
    ui.wait_nodes(len(NODES))
    ui.settled()
    assert set(ui.node_ids()) == NODES
    ui.edge("search.context->answer.values").wait_for(state="attached")
    ui.shot("template-opened")

    # 3. The search's form: the Query in a multiline text area, retyped; the Metadata filter a JSON object editor.
    ui.select("search")
    page.get_by_role("tab", name="Parameters").click()
    query = page.locator("#param-search-query")
    assert query.evaluate("e => e.tagName") == "TEXTAREA"
    assert query.input_value() == "How many flowers of each species are in the iris data?"
    query.fill(QUESTION)
    filter_field = page.locator("#param-search-filter")
    assert filter_field.evaluate("e => e.tagName") == "TEXTAREA"
    assert "json-input" in filter_field.get_attribute("class")
    assert filter_field.get_attribute("placeholder") == '{"name": "value"}'  # an object, not any JSON value
    filter_field.fill('["iris.rst"]')
    problem = page.locator('[data-field="filter"] .field-error', has_text="Must be a JSON object")
    problem.wait_for()
    filter_field.fill('{"source": ')
    page.locator('[data-field="filter"] .field-error', has_text="Not valid JSON").wait_for()
    filter_field.fill("")  # no filter: every passage may be found
    page.locator('[data-field="filter"] .field-error').wait_for(state="detached")
    page.get_by_test_id("problems-search").wait_for(state="detached")
    ui.shot("search-form")
    # The answer node already names the saved connection.
    ui.select("answer")
    picker = page.locator("#param-answer-connection")
    picker.locator("option", has_text=re.compile("^llm$")).wait_for(state="attached")  # offered, not "not found"
    assert picker.input_value() == "llm"
    assert not page.locator('[data-field="connection"] .field-error').count()

    # 4. Run (the template is saved first), then each node's results.
    run = run_in_editor(page, live_app)
    assert run["nodes"]["search"]["outputs"]["context"]["value"]["query"] == QUESTION

    results = open_results(ui, "search")
    hits = results.get_by_test_id("output-hits")  # (the kind label is upper-cased by CSS: read its text)
    assert hits.locator(".kind-label").text_content() == "Table"
    hits.locator("tbody tr").first.wait_for()
    columns = hits.locator("thead th .col-name").all_inner_texts()
    assert columns[:3] == ["rank", "score", "source"] and "text" in columns, columns
    rows = [[cell.strip() for cell in row.locator("td").all_inner_texts()] for row in hits.locator("tbody tr").all()]
    source = 1 + columns.index("source")  # after the row number
    assert rows[0][source] == "iris.rst", rows
    assert [r[1 + columns.index("rank")] for r in rows] == [str(i) for i in range(1, len(rows) + 1)], rows
    assert 1 <= len(rows) <= 4  # top_k
    context = results.get_by_test_id("output-context")
    assert context.locator(".kind-label").text_content() == "JSON"
    tree = context.get_by_test_id("json-output")
    shown = tree.inner_text()
    assert f'"query": {json.dumps(QUESTION)},' in shown, shown
    assert '"passages": [\n".. _iris_dataset:\\n\\nIris plants dataset' in shown, shown  # the first passage, open
    assert '"hits": [' in shown and '"index": {' in shown, shown
    assert len(run["nodes"]["search"]["outputs"]["context"]["value"]["passages"]) == len(rows)
    ui.shot("search-results")

    results = open_results(ui, "answer")
    text = results.get_by_test_id("output-text")
    assert text.locator(".kind-label").text_content() == "Text"
    assert text.get_by_test_id("text-output").inner_text() == ANSWER
    assert results.get_by_test_id("output-json").get_by_test_id("json-null").inner_text() == "No value (null)."
    ui.shot("answer-results")

    # 5. The model was asked the typed question, with the passages the search found.
    [asked] = canned_llm.requests
    prompt = asked["body"]["messages"][-1]["content"]
    assert f"Question: {QUESTION}" in prompt
    assert "Iris plants dataset" in prompt and asked["auth"] == f"Bearer {API_KEY}"
    assert browser_page.errors == []
