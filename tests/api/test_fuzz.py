"""API fuzzing (issue: reliability): schemathesis generates requests for every operation in the
OpenAPI description, signed in as each role, against the real server; path ids are real records
(so requests reach the services, not just the 404), bodies and queries are generated. No answer
may be a 5xx, and no answer may break the response schema the description declares.

``FOLLICLE_FUZZ_EXAMPLES`` sets the examples per operation and role (6 by default).
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.api.conftest import ApiServer
from tests.support.api import ROLES, client_for, path_ids, walk_to_sessions

EXAMPLES = int(os.environ.get("FOLLICLE_FUZZ_EXAMPLES", "6"))
#: Operations that would end the very token the fuzzer signs in with.
SKIPPED = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/users/{user_id}/deactivate")}


def _fuzz(strategy: Any, base_url: str, headers: dict[str, str], statuses: Counter[int]) -> None:
    """Send the strategy's examples; raise on the first 5xx or schema break."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=60)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    run()


@pytest.mark.parametrize("api", ["sqlite"], indirect=True)
def test_no_server_errors_and_no_schema_breaks_for_any_role(api: ApiServer) -> None:
    users = api.demo
    with (
        client_for(api.url, users.tokens["practitioner"]) as practitioner,
        client_for(api.url, users.tokens["front_desk"]) as desk,
    ):
        ids = walk_to_sessions(practitioner, desk, users, users.patient_id, "Europe/London", 13)
    known = path_ids(users.patient_id, ids, users, users.spare_user_id)
    description = httpx.get(api.url + "/api/v1/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(description)
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    for role in ROLES:
        headers = {"Authorization": f"Bearer {users.tokens[role]}"}
        for result in schema.get_all_operations():
            operation = result.ok()
            if (operation.method.upper(), operation.path) in SKIPPED:
                continue
            names = {p.name for p in operation.path_parameters}
            strategy = operation.as_strategy(
                path_parameters={n: known[n] for n in names if n in known}
            )

            try:
                _fuzz(strategy, api.url, headers, statuses)
            except Exception as exc:
                failures.append(f"{role} {operation.method.upper()} {operation.path}: {exc}"[:600])
    calls = sum(statuses.values())
    assert calls > len(ROLES) * 50  # the fuzzer really ran
    assert statuses.get(200, 0) + statuses.get(201, 0) > 50  # and reached real records
    assert failures == []
