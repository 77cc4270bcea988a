"""The intake benchmark posts what the public form accepts, so it measures successes."""

import pytest
from django.http import QueryDict

from bench.intake import EMAIL_DOMAIN, form_body_rest
from leads.capture.forms import submission_form_class
from portal.demo.services import _form
from tests.factories import UserFactory


@pytest.mark.django_db
def test_the_benchmark_body_is_a_valid_submission_of_the_demo_form():
    form = _form(UserFactory())
    body = QueryDict(f"email=intake-1-1%40{EMAIL_DOMAIN}&{form_body_rest()}")

    bound = submission_form_class(form.current_version)(body)

    assert bound.is_valid(), bound.errors
