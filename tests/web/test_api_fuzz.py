"""Fuzz the JSON API against its own OpenAPI document with schemathesis: whatever the
generated paths, queries and bodies, the API answers without a server error (no 500),
for a user's personal token and for a case-handling system's token."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from dangan.archive import api_tokens
from dangan.web.app import create_app
from tests.web.webkit import app_config, build


@pytest.fixture(scope="module")
def fuzz_env(tmp_path_factory):
    web = build(tmp_path_factory.mktemp("fuzz") / "home")
    app = create_app(app_config(web, DANGAN_API_MAX_CASE_BYTES=1 << 20))
    tokens = {
        "inspector": api_tokens.add_token(web.archive.db, login="inspector1", actor="test")[1],
        "archivist": api_tokens.add_token(web.archive.db, login="archivist1", actor="test")[1],
        "system": api_tokens.add_token(web.archive.db, system="社保经办系统", actor="test")[1],
    }
    yield app, tokens
    web.archive.close()


def test_no_server_errors(fuzz_env):
    """Each operation of the document, fuzzed in turn (schemathesis strategies driven by
    hypothesis directly: its pytest plugin does not load under this pytest)."""
    app, tokens = fuzz_env
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/cases", "/api/v1/search",
                                              "/api/v1/verify/{ref}"}
    for op in operations:
        @given(case=op.as_strategy())
        @settings(max_examples=15, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            for who in ("inspector", "archivist", "system"):
                case.call_and_validate(headers={"Authorization": f"Bearer {tokens[who]}"},
                                       checks=[not_a_server_error])

        fuzz()
