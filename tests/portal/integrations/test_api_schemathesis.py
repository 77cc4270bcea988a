"""A bounded schemathesis run: requests made up from the OpenAPI schema, sent to a live
test server with a sales manager's token, fail on any 5xx or any answer the schema does not
describe (status, headers, content type, body). Kept to a few examples per operation so
that it stays under a minute on the busy machine."""

import pytest
import schemathesis
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, settings
from schemathesis import checks

from leads.models import Stage, Submission
from portal.accounts.roles import Role
from portal.integrations.api.services import token_create
from scoring.models import Agreement
from tests.factories import CriterionFactory, LeadFactory, QueueFactory, UserFactory

EXAMPLES = 6
# No 5xx, and every answer as the schema says. Not "positive data accepted": a filter on a
# queue that does not exist is schema-valid and rightly a 400 naming the filter.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def served(live_server, django_db_serialized_rollback, transactional_db) -> tuple[str, str]:
    """A live server with a few leads of every kind, and a sales manager's token."""
    manager = UserFactory(role=Role.SALES_MANAGER)
    rep = UserFactory(role=Role.SALES_REP)
    for stage in (Stage.ROUTED, Stage.ACCEPTED, Stage.CONTACTED):
        lead = LeadFactory(stage=stage, owner=rep)
        Submission.objects.create(form=lead.source_form, lead=lead, payload={"email": lead.email})
    QueueFactory().members.create(rep=rep)
    CriterionFactory(agreement=Agreement.objects.create(version=1))
    _token, raw = token_create(user=manager, name="schemathesis")
    return live_server.url, raw


@pytest.fixture
def api_schema(served):
    document = Client().get(reverse("schema"), headers={"Accept": "application/json"}).json()
    loaded = schemathesis.openapi.from_dict(document)
    # The coverage phase's hundreds of boundary cases take minutes here; the fuzzing phase
    # (EXAMPLES per operation, positive and negative data) keeps the run under a minute.
    loaded.config.phases.coverage.enabled = False
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_schema_says(case, served):
    base_url, token = served
    case.call_and_validate(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        checks=CHECKS,
        timeout=30,
    )
