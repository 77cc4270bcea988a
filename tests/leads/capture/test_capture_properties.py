"""Arbitrary input at both intakes: never a 5xx, and every success stored exactly as sent."""

import json
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.capture.intake.views import UTM_KEYS
from leads.models import Submission
from tests.error_shape import assert_error_json
from tests.factories import FormFactory

pytestmark = pytest.mark.django_db

EXAMPLES = settings(
    max_examples=200,
    deadline=None,
    # The database is not reset between examples; each checks only its own submission.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any code point, unpaired surrogates and NUL included, and the usual suspects often.
texts = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=12),
    st.sampled_from(["", "\x00", "\ud800", "\udfff", "a\x00b", "ana@acme.example", "Brazil"]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(),  # NaN, infinities, -0.0 and 1e308 too; infinities are sent as 1e400
    texts,
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=16,
)
submissions = st.builds(
    lambda fields, extras: {**extras, **fields},
    st.fixed_dictionaries(
        {"email": st.one_of(st.just("ana@acme.example"), json_values)},
        optional={
            key: st.one_of(json_values, st.sampled_from(["Acme", "80", 80, 80.0, "Brazil", True]))
            for key in ("first_name", "company", "company_size", "country", "consent")
        }
        | {
            "page_url": st.one_of(texts, json_values),
            "utm": st.one_of(st.dictionaries(st.sampled_from(UTM_KEYS), texts), json_values),
        },
    ),
    st.dictionaries(texts, json_values, max_size=6),
)


@pytest.fixture
def form():
    return FormFactory()


@EXAMPLES
@given(body=st.one_of(submissions, json_values))
def test_any_json_is_refused_in_the_shape_or_stored_as_sent(client, form, body):
    url = reverse("capture:api_submission_create", kwargs={"slug": form.slug})
    # json.dumps writes infinities as Infinity, which strict JSON refuses; 1e400 parses to one.
    text = json.dumps(body).replace("Infinity", "1e400")
    response = client.post(url, text, content_type="application/json")

    assert response.status_code < 500, response.content[:500]
    if response.status_code == 201:
        answer = response.json()
        # Compared by the database, as jsonb: 1e300 comes back from PostgreSQL as an integer.
        stored = Submission.objects.filter(pk=answer["submission"], payload=json.loads(text))
        assert stored.filter(lead_id=answer["lead"]).exists()
    else:
        assert_error_json(response, response.status_code, response.json()["code"])


form_values = st.one_of(texts, st.lists(texts, min_size=1, max_size=3))


@EXAMPLES
@given(
    fields=st.dictionaries(texts.filter(lambda name: name != "csrfmiddlewaretoken"), form_values),
    with_email=st.booleans(),
)
def test_any_form_post_is_refused_on_the_page_or_stored_as_sent(client, form, fields, with_email):
    url = reverse("capture:form", kwargs={"slug": form.slug})
    sent = {"email": "ana@acme.example", **fields} if with_email else fields
    # A surrogate cannot be UTF-8; sent as its three bytes, it is what a broken client posts.
    body = urlencode(sent, doseq=True, errors="surrogatepass")
    before = Submission.objects.count()
    response = client.post(url, body, content_type="application/x-www-form-urlencoded")

    assert response.status_code < 500, response.content[:500]
    if response.status_code == 302:
        stored = Submission.objects.order_by("-pk").first()
        assert stored.payload == {
            name: value[0] if isinstance(value, list) and len(value) == 1 else value
            for name, value in sent.items()
        }
    else:
        assert response.status_code == 400
        assert b'id="form-errors"' in response.content
        assert Submission.objects.count() == before
