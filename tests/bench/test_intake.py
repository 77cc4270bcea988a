"""The intake benchmark posts what the public form accepts, so it measures successes."""

import pytest
from django.http import QueryDict

from bench.intake import EMAIL_DOMAIN, form_body_rest
from leads.capture.builder.forms import submission_form_class
from portal.demo.services import _form
from tests.factories import UserFactory


@pytest.mark.django_db
def test_the_benchmark_body_is_a_valid_submission_of_the_demo_form():
    form = _form(UserFactory())
    body = QueryDict(f"email=intake-1-1%40{EMAIL_DOMAIN}&{form_body_rest()}")

    bound = submission_form_class(form.current_version)(body)

    assert bound.is_valid(), bound.errors


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["intake", "json", "hubspot", "secure-hubspot", "web-to-lead"])
def test_every_endpoints_benchmark_body_is_accepted(client, name):
    """Each target's body, as the load generator fills it in, is a success: the benchmark
    measures stored posts, not refusals."""
    from bench.intake import form_and_token, make_targets

    form, token = form_and_token(_form(UserFactory()).slug)
    target = next(t for t in make_targets(form, token) if t.name == name)
    headers = {"HTTP_AUTHORIZATION": target.authorization} if target.authorization else {}
    response = client.post(
        target.path,
        target.body_for(f"bench-{name}-1-1"),
        content_type=target.content_type,
        **headers,
    )
    assert response.status_code == target.accepted_status, response.content
    assert target.stored(f"bench-{name}") == {"submissions": 1, "leads": 1}
