"""`flowza deploy`, `flowza deployments`, `flowza predict` and `flowza models export-docker` against a real
running API (uvicorn) and MLflow registry, as a user runs them; and the SDK's ``Service`` doing the same."""

from __future__ import annotations

import json
import tarfile

import pytest

from flowza.remote import ServiceError
from flowza.sdk import Service
from tests.api.test_deployments_api import MODEL, model_of, passengers, trained  # noqa: F401 - a fixture
from tests.api.test_models_api import use_registry
from tests.conftest import api_server
from tests.flowza.test_cli import flowza


@pytest.fixture
def service(flowza_env, trained, monkeypatch):  # noqa: F811 - the imported fixture
    """The real API on a free port (single-user, fresh home), reading the module's registry; its URL."""
    use_registry(monkeypatch, trained["tracking_uri"])
    with api_server("flowza-cli-deployments-server") as url:
        yield url


def test_deploy_token_predict_list_and_delete_from_the_command_line(service, trained, tmp_path):  # noqa: F811
    url = ["--url", service]
    deployed = flowza("deploy", "titanic", "--model", MODEL, "--version", "1", *url)
    assert deployed.returncode == 0, deployed.stderr
    assert f"{service}/api/deployments/titanic/invocations" in deployed.stdout and "[ready]" in deployed.stdout
    issued = flowza("deployments", "token", "titanic", *url)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.splitlines()[0]

    rows = passengers(8)
    rows = rows[rows["embarked"].notna()].reset_index(drop=True)
    expected = model_of(trained["tracking_uri"]).predict(rows).tolist()
    rows.to_csv(tmp_path / "rows.csv", index=False)
    scored = flowza("predict", "titanic", "--token", token, "--file", str(tmp_path / "rows.csv"), "--json", *url)
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["predictions"] == expected
    (tmp_path / "rows.json").write_text(rows.to_json(orient="records"))
    human = flowza("predict", "titanic", "--token", token, "--file", str(tmp_path / "rows.json"), *url)
    assert human.returncode == 0 and f"row 0: {expected[0]}  (p=" in human.stdout, human.stderr
    assert "model version 1" in human.stdout

    wrong = flowza("predict", "titanic", "--token", "nope", "--file", str(tmp_path / "rows.csv"), *url)
    assert wrong.returncode == 2 and "does not open deployment 'titanic'" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    missing = flowza("predict", "titanic", "--token", token, "--file", str(tmp_path / "none.csv"), *url)
    assert missing.returncode == 2 and "rows file not found" in missing.stderr
    unknown = flowza("deploy", "other", "--model", "no-such-model", "--version", "1", *url)
    assert unknown.returncode == 2 and "no-such-model" in unknown.stderr

    listed = flowza("deployments", "list", *url)
    assert listed.returncode == 0 and "titanic: titanic-survival version 1 -> v1  [ready]  2 request(s)" in \
        listed.stdout
    shown = json.loads(flowza("deployments", "show", "titanic", "--json", *url).stdout)
    assert shown["stats"]["predictions_total"] == 2 * len(rows)
    assert flowza("deployments", "delete", "titanic", *url).returncode == 0
    assert "no deployments yet" in flowza("deployments", "list", *url).stdout
    gone = flowza("deployments", "show", "titanic", *url)
    assert gone.returncode == 2 and "deployment 'titanic' not found" in gone.stderr


def test_export_docker_writes_the_build_context(service, tmp_path):
    out = tmp_path / "titanic.tar.gz"
    exported = flowza("models", "export-docker", MODEL, "1", "-o", str(out), "--url", service)
    assert exported.returncode == 0, exported.stderr
    with tarfile.open(out) as archive:
        names = archive.getnames()
    assert any(n.endswith("Dockerfile") for n in names) and any(n.endswith("MLmodel") for n in names)
    unknown = flowza("models", "export-docker", MODEL, "9", "-o", str(tmp_path / "x.tar.gz"), "--url", service)
    assert unknown.returncode == 2 and "version 9" in unknown.stderr
    usage = flowza("models", "export-docker", MODEL, "--url", service)
    assert usage.returncode == 2 and "usage: flowza models export-docker" in usage.stderr


def test_the_sdk_deploys_scores_and_labels(service):
    client = Service(service)
    deployed = client.deploy("titanic", MODEL, version=1)
    assert deployed["status"] == "ready"
    token = client.create_token("titanic", "sdk")["token"]
    answer = client.predict("titanic", passengers(3), token=token, on_error="skip")
    assert len(answer["predictions"]) == 3 and answer["model_version"] == 1
    assert client.feedback("titanic", {"request_id": answer["request_id"], "label": 1}) == {"labelled": 1,
                                                                                            "unknown": []}
    assert client.predictions("titanic", labelled=True)["total"] == 1
    assert client.stats("titanic")["requests_total"] == 1
    [listed] = client.tokens("titanic")
    client.revoke_token("titanic", listed["id"])
    with pytest.raises(ServiceError) as refused:
        client.predict("titanic", passengers(1), token=token)
    assert refused.value.status == 401 and refused.value.code == "UNAUTHORIZED"
    assert client.update_deployment("titanic", thresholds={"min_rows": 10})["thresholds"]["min_rows"] == 10
    client.delete_deployment("titanic")
    assert client.deployments() == []
