"""The deployments page, in a real headless Chromium against the real app; the model trained and registered by a
workflow run on Prefect, monitoring run there too.

Issue 10: a registered version is deployed from the registry; a token is shown once and lands in the curl example;
predictions sent with it move the live counter; labelled feedback and a monitoring run turn into charts (drift per
feature with the shifted feature past the threshold, accuracy, latency, volume) and an alert; the deployment is
switched to a fixed version, its token revoked, and it is deleted after a confirmation.
"""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from nodes.samples import load_sample
from tests.web.conftest import WAIT_MS

expect.set_options(timeout=WAIT_MS)  # the limit of every wait in the editor's tests
RUN_TIMEOUT_MS = 240_000  # a whole training run on Prefect, on a busy machine
MONITOR_TIMEOUT_MS = 120_000  # a monitoring flow run on Prefect (the worker picks it up, then it runs)
SHIFTED = "petal length (cm)"


def registering_workflow() -> dict:
    """Iris, split, logistic regression registered as iris-web (alias champion), evaluated on the test rows."""
    nodes = [("load", "sample_dataset", "Iris", {"name": "iris"}),
             ("split", "train_test_split", "Split", {"target_column": "target", "stratify": True}),
             ("train", "train_logreg", "Logistic regression", {}),
             ("register", "register_model", "Register", {"name": "iris-web", "alias": "champion"}),
             ("evaluate", "evaluate", "Evaluate", {})]
    return {
        "name": "Iris to deploy",
        "nodes": [{"id": i, "type": t, "position": {"x": 0, "y": 130 * k}, "data": {"label": label},
                   "parameters": p} for k, (i, t, label, p) in enumerate(nodes)],
        "connections": [{"source": "load", "target": "split"},
                        {"source": "split", "sourceHandle": "train", "target": "train"},
                        {"source": "train", "target": "register"},
                        {"source": "register", "target": "evaluate", "targetHandle": "model"},
                        {"source": "split", "sourceHandle": "test", "target": "evaluate", "targetHandle": "test"}],
    }


def test_deploy_a_model_and_watch_its_traffic_and_drift(editor_prerequisites, flowza_worker, flowza_env, live_app,
                                                      browser_page, ui):
    page = ui.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_app)
    saved = ui.post(live_app, "/api/workflows/", registering_workflow())
    ui.open(live_app, saved["id"], node_count=5)
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function(
        """() => ['Completed', 'Failed', 'Cancelled'].includes(
                   document.querySelector('[data-testid="run-status"]')?.textContent)""", timeout=RUN_TIMEOUT_MS)
    assert page.get_by_test_id("run-status").inner_text() == "Completed"

    # No deployment yet: the page says how to make one.
    page.get_by_role("button", name="Deployments", exact=True).click()
    deployments = page.get_by_role("dialog", name="Deployments")
    deployments.get_by_role("heading", name="No deployments yet").wait_for()
    ui.shot("no-deployments")
    deployments.get_by_role("button", name="Close").click()

    # Deploy the version from the registry: the name comes from the model and the alias it carries.
    page.get_by_role("button", name="Models", exact=True).click()
    page.get_by_role("button", name="Deploy version 1").click()
    create = page.get_by_role("dialog", name="New deployment")
    expect(create.get_by_label("Deployment name")).to_have_value("iris-web-champion")
    assert create.get_by_role("radio", name="The version an alias names").is_checked()
    ui.shot("deploy-dialog")
    create.get_by_role("button", name="Create deployment").click()
    detail = page.get_by_role("region", name="Deployment iris-web-champion")
    expect(detail.get_by_test_id("deployment-status")).to_have_text("Ready")
    deployment = page.request.get(f"{live_app}/api/deployments/iris-web-champion").json()
    assert detail.get_by_test_id("invocations-url").inner_text() == deployment["invocations_url"]
    assert deployment["invocations_url"] == f"{live_app}/api/deployments/iris-web-champion/invocations"
    assert "YOUR_TOKEN" in detail.get_by_test_id("curl-example").inner_text()
    monitoring = detail.get_by_role("region", name="Monitoring")
    monitoring.get_by_test_id("monitoring-empty").get_by_text("every hour").wait_for()
    scroll_to(monitoring)
    ui.frames()
    ui.shot("deployed-not-monitored-yet")

    # The API's errors are shown as its message: the name is taken.
    page.get_by_role("button", name="New deployment").click()
    create = page.get_by_role("dialog", name="New deployment")
    expect(create.get_by_label("Deployment name")).to_have_value("iris-web-champion")
    create.get_by_role("button", name="Create deployment").click()
    taken = page.request.post(f"{live_app}/api/deployments",
                              data={"name": "iris-web-champion", "model": "iris-web", "alias": "champion"})
    assert taken.status == 409, taken.text()
    expect(create.get_by_role("alert")).to_contain_text(taken.json()["message"])
    create.get_by_role("button", name="Cancel").click()

    # A token: shown once, with a warning, copyable, and written into the curl example.
    tokens = detail.get_by_role("region", name="Tokens")
    tokens.get_by_label("Token name").fill("e2e-client")
    tokens.get_by_role("button", name="Create token").click()
    secret = tokens.get_by_test_id("new-token").inner_text()
    tokens.get_by_text("it will not be shown again").wait_for()
    assert secret and f"Bearer {secret}" in detail.get_by_test_id("curl-example").inner_text()
    tokens.get_by_role("button", name="Copy the token").click()
    page.get_by_test_id("toast").filter(has_text="Token copied.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    token_row = tokens.get_by_role("row").filter(has_text="e2e-client")
    expect(token_row).to_contain_text("never")
    ui.dismiss_toasts()
    traffic = detail.get_by_role("region", name="Traffic")
    expect(traffic.get_by_test_id("stat-requests_total")).to_have_text("0")
    ui.shot("token-created")

    # Predictions with the token: every iris row, one feature moved by two standard deviations, five requests.
    table = load_sample("iris")
    labels = table.pop("target").tolist()
    shifted = table.assign(**{SHIFTED: table[SHIFTED] + 2 * table[SHIFTED].std()})
    answers = predict(deployment["invocations_url"], secret, shifted)
    assert httpx.post(deployment["invocations_url"], json={"instances": [[1, 2, 3, 4]]}).status_code == 401

    # The live counter moves, and so do the list, the token's last use and the curl example's row.
    expect(traffic.get_by_test_id("stat-requests_total")).to_have_text("5")
    expect(traffic.get_by_test_id("stat-predictions_total")).to_have_text("150")
    expect(page.get_by_test_id("deployment-iris-web-champion-requests")).to_have_text("5 requests")
    expect(token_row).not_to_contain_text("never")
    expect(detail.get_by_test_id("curl-example")).to_contain_text(f'"{SHIFTED}"')

    # The true classes of every row, then a monitoring run: charts, not tables.
    label(live_app, answers, labels)
    expect(traffic.get_by_test_id("stat-labelled_total")).to_have_text("150")
    monitoring.get_by_role("button", name="Run monitoring now").click()
    drift = monitoring.get_by_test_id("drift-chart")
    drift.wait_for(timeout=MONITOR_TIMEOUT_MS)
    watched = page.request.get(f"{live_app}/api/deployments/iris-web-champion/monitoring").json()
    assert SHIFTED in watched["results"][-1]["drifted_features"], watched["results"]
    drawn_as(drift, watched["results"][-1])
    for chart in ("accuracy-chart", "latency-chart", "volume-chart"):
        monitoring.get_by_test_id(chart).wait_for()
    assert monitoring.get_by_test_id("latency-chart").locator(".series").count() == 3
    # The alerts, newest first as the API lists them: the shifted feature's drift among them.
    assert "drift" in {a["kind"] for a in watched["alerts"]}, watched["alerts"]
    alerts = detail.get_by_role("region", name="Alerts").get_by_test_id("alert")
    expect(alerts).to_have_count(len(watched["alerts"]))
    for shown, alert in zip(alerts.all(), watched["alerts"]):
        expect(shown).to_contain_text(alert["message"])
    ui.dismiss_toasts()
    scroll_to(detail)
    ui.frames()
    ui.shot("deployment-page")
    scroll_to(monitoring)
    ui.frames()
    ui.shot("monitoring-charts")

    # The same rows unshifted, labelled, and a second run: no drift this time, and two points on each line.
    label(live_app, predict(deployment["invocations_url"], secret, table), labels)
    expect(traffic.get_by_test_id("stat-requests_total")).to_have_text("10")
    monitoring.get_by_role("button", name="Run monitoring now").click()
    expect(monitoring.get_by_test_id("latency-chart").locator(".point")).to_have_count(6, timeout=MONITOR_TIMEOUT_MS)
    watched = page.request.get(f"{live_app}/api/deployments/iris-web-champion/monitoring").json()
    assert len(watched["results"]) == 2 and SHIFTED not in watched["results"][-1]["drifted_features"]
    drawn_as(drift, watched["results"][-1])
    expect(monitoring.get_by_test_id("accuracy-chart").locator(".point")).to_have_count(2)
    ui.dismiss_toasts()
    scroll_to(monitoring)
    ui.frames()
    ui.shot("monitoring-two-runs")

    # Serve a fixed version instead of following the alias.
    serving = detail.get_by_role("region", name="Serving")
    serving.get_by_role("radio", name="A fixed version").check()
    serving.get_by_role("button", name="Switch").click()
    expect(serving).to_contain_text("iris-web, version 1")
    changed = page.request.get(f"{live_app}/api/deployments/iris-web-champion").json()
    assert (changed["version"], changed["alias"]) == (1, None)

    # Revoke the token: it stops working at once.
    tokens.get_by_role("button", name="Revoke token e2e-client").click()
    expect(token_row).to_have_count(0)
    refused = httpx.post(deployment["invocations_url"], headers={"Authorization": f"Bearer {secret}"},
                         json={"dataframe_records": [table.iloc[0].to_dict()]}, timeout=60)
    assert refused.status_code == 401, refused.text

    # Closed, the page asks nothing more (its counter polls every 2 s); opened again, it polls again.
    polled = []
    page.on("request", lambda request: "/stats" in request.url and polled.append(request.url))
    deployments.get_by_role("button", name="Close").click()
    deployments.wait_for(state="detached")
    polled.clear()
    page.wait_for_timeout(5000)  # an absence can only be seen over time: two and a half polling intervals
    assert polled == []
    with page.expect_request(lambda request: request.url.endswith("/api/deployments/iris-web-champion/stats")):
        page.get_by_role("button", name="Deployments", exact=True).click()

    # Delete, after a confirmation.
    serving.get_by_role("button", name="Delete deployment").click()
    page.get_by_role("dialog", name="Delete iris-web-champion?").get_by_role("button", name="Delete").click()
    deployments.get_by_role("heading", name="No deployments yet").wait_for()
    assert page.request.get(f"{live_app}/api/deployments").json() == []

    # The only console error: the browser's own line for the refused duplicate (409).
    assert [e for e in browser_page.errors if "status of 409" not in e] == []


def predict(url: str, token: str, table) -> list[dict]:
    """Score the table in requests of 30 rows with the token; the answers."""
    answers = []
    for start in range(0, len(table), 30):
        chunk = table.iloc[start:start + 30]
        response = httpx.post(url, headers={"Authorization": f"Bearer {token}"}, timeout=60,
                              json={"dataframe_split": {"columns": list(chunk.columns), "data": chunk.values.tolist()}})
        assert response.status_code == 200, response.text
        answers.append(response.json())
    return answers


def label(base_url: str, answers: list[dict], labels: list) -> None:
    """Send the true class of every row the answers scored (rows in order, 30 a request)."""
    feedback = [{"request_id": a["request_id"], "row": row, "label": labels[30 * k + row]}
                for k, a in enumerate(answers) for row in range(len(a["predictions"]))]
    labelled = httpx.post(f"{base_url}/api/deployments/iris-web-champion/feedback", json=feedback, timeout=60)
    assert labelled.json() == {"labelled": len(feedback), "unknown": []}, labelled.text


def drawn_as(chart, result: dict) -> None:
    """The drift chart has a bar per feature of the result, the drifted ones marked, and the threshold line."""
    def features(selector: str) -> list[str]:
        return sorted(chart.locator(selector).evaluate_all("els => els.map(e => e.dataset.testid.slice(6))"))

    expect(chart.locator("[data-drifted]")).to_have_count(len(result["drifted_features"]))
    assert features("[data-testid^='drift-']") == sorted(result["drift"])
    assert features("[data-drifted]") == sorted(result["drifted_features"])
    assert chart.locator(".threshold").count() == 1


def scroll_to(section) -> None:
    """Scroll the deployments page so that the section starts just below its sticky header."""
    section.evaluate("""e => {
        const page = e.closest('.overlay-page');
        page.scrollBy(0, e.getBoundingClientRect().top - page.querySelector('header').getBoundingClientRect().bottom - 16);
    }""")
