"""A web process serves published forms from memory, briefly, and never a stale one it saved."""

import time

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from leads.capture.models import Form
from leads.capture.selectors import published_form, published_form_by_guid
from leads.capture.services import form_publish, form_unpublish, form_update
from tests.factories import FormFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_served_form_is_read_once():
    form = FormFactory()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert published_form(slug=form.slug).pk == form.pk
            assert published_form_by_guid(guid=form.guid).pk == form.pk
    assert len(queries) == 2  # one per way of naming it


def test_a_publish_in_this_process_is_served_at_once():
    form = FormFactory()
    first = published_form(slug=form.slug).current_version
    form_update(form=form, consent_text="We may call you.")
    form_publish(form=form, by=UserFactory())

    served = published_form(slug=form.slug)
    assert served.current_version.number == first.number + 1
    assert served.current_version.consent_text == "We may call you."


def test_an_unpublish_in_this_process_is_a_404_at_once():
    form = FormFactory()
    published_form(slug=form.slug)
    form_unpublish(form=form)
    with pytest.raises(Http404):
        published_form(slug=form.slug)


def test_a_change_made_by_another_process_is_seen_after_the_window(settings):
    settings.LEADBRIDGE_PUBLISHED_FORM_SECONDS = 0.2
    form = FormFactory()
    published_form(slug=form.slug)
    # Another process unpublishes: no signal reaches this one.
    Form.objects.filter(pk=form.pk).update(status=Form.Status.DRAFT)

    assert published_form(slug=form.slug).pk == form.pk  # still within the window
    time.sleep(0.25)
    with pytest.raises(Http404):
        published_form(slug=form.slug)


def test_unknown_slugs_are_not_remembered():
    from leads.capture import selectors

    for n in range(50):
        with pytest.raises(Http404):
            published_form(slug=f"no-such-form-{n}")
    assert selectors._published_forms == {}
