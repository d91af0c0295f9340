"""The OpenAPI schema is valid and true: schemathesis drives every operation with
generated input (as alice, through WSGI) and no answer is a server error."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from tests.judging.judging_fixtures import make_offline_run
from workbench.wsgi import application


def _schema() -> dict[str, Any]:
    spec: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    # Aim the generated calls at the test workshop so they reach the views' code
    # rather than stopping at its 404.
    for operation in spec["paths"].values():
        for method in operation.values():
            for parameter in method.get("parameters", []):
                if parameter["name"] == "slug" and parameter["in"] == "path":
                    parameter["schema"] = {"type": "string", "enum": ["ai-values"]}
    return spec


def test_schema_is_valid_openapi():
    spec = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(spec)  # raises on an invalid document
    error = spec["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["$ref"].endswith("/ErrorDetail")
    ops = [op for path in spec["paths"].values() for op in path.values()]
    assert all("401" in op["responses"] for op in ops)


def test_schema_documents_filters_and_downloads():
    spec = SchemaGenerator().get_schema(request=None, public=True)
    votes = spec["paths"]["/api/v1/workshops/{slug}/votes/"]["get"]
    assert {p["name"] for p in votes["parameters"]} >= {"round", "principle", "page"}
    pdf = spec["paths"]["/api/v1/workshops/{slug}/cards.pdf"]["get"]
    assert "application/pdf" in pdf["responses"]["200"]["content"]


# The coverage phase (boundary cases for every parameter, unbounded by
# max_examples) takes minutes; the generated examples below are enough here.
SCHEMA = schemathesis.openapi.from_dict(
    _schema(),
    config=SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}}),
)


@pytest.fixture
def _keep_test_connection():
    """Django's WSGI handler closes the database connection after each request;
    the test's transaction lives on it (the test client disconnects this too)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def alice_headers(setup, owner, _keep_test_connection) -> dict[str, str]:
    make_offline_run(setup)  # a comparison set and a run to aim at
    from workbench.api.services import api_token_create

    _, key = api_token_create(user=owner)
    return {"Authorization": f"Token {key}"}


@SCHEMA.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_errors(case, alice_headers, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": None},
    }
    response = case.call(
        app=application, base_url="http://testserver", headers=alice_headers
    )
    case.validate_response(response, checks=[not_a_server_error])
