"""Schemathesis over the OpenAPI schema: generated requests to every operation never get a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from api.main import create_app

MAX_EXAMPLES = 12  # per operation: bounded so the suite stays minutes, not hours
# Where hostile input lands (workflow documents, version numbers, offsets, uploads: issue 13 items 8-11) and
# answers fast without Prefect or MLflow: these operations get many more examples.
DEEP_EXAMPLES = 40

# Settings are read per request, so the app can be built at collection and pointed at each test's home.
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())
hostile_input = schema.include(path_regex=r"^/api/(workflows|datasets|upload)").exclude(
    path_regex=r"/(run|execute|rerun|status|progress|results|schedules.*)$")


@pytest.fixture(autouse=True)
def fresh_home(flowza_env, prefect_api_url, monkeypatch):
    from metadata_db.session import upgrade
    from flowza_core.settings import get_settings

    monkeypatch.setenv("FLOWZA_RUNS_PER_MINUTE", "1000000")  # the fuzzer is not a rate-limit test
    get_settings.cache_clear()
    upgrade(get_settings().metadata_db_url)  # what the app's lifespan does on start


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error(case):
    case.call_and_validate(checks=[not_a_server_error])


@hostile_input.parametrize()
@settings(max_examples=DEEP_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_workflow_and_dataset_operations_get_no_server_error_under_many_examples(case):
    case.call_and_validate(checks=[not_a_server_error])
