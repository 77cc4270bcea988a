"""The OpenAPI schema: generated with warnings as errors, valid OpenAPI 3, with every
operation's error answers in the one error shape; Swagger UI and ReDoc from our own static
files under the site's CSP."""

import re

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_schema_generates_without_a_warning_and_validates(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/leads/{id}/accept/" in schema["paths"]
    assert not any(path.startswith("/api/v1/forms/{slug}") for path in schema["paths"])


def test_every_operation_documents_its_errors_in_the_one_shape():
    schema = Client().get(reverse("schema"), headers={"Accept": "application/json"}).json()
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "errors"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            for status in ("400", "401", "403", "404", "429"):
                body = answers[status]["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/Error"}, (path, method, status)


def test_a_lead_move_documents_its_409_and_its_own_body():
    schema = Client().get(reverse("schema"), headers={"Accept": "application/json"}).json()
    reject = schema["paths"]["/api/v1/leads/{id}/reject/"]["post"]
    assert "409" in reject["responses"]
    body = reject["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][body.rsplit("/", 1)[1]]["properties"]
    assert {"reason", "note"} <= set(fields)


@pytest.mark.parametrize("name", ["docs", "redoc"])
def test_the_readers_load_only_our_own_scripts_under_the_csp(name):
    response = Client().get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn" not in html.lower()
    assert "https://" not in html, "everything from this site"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    # No inline script: every <script> has a src on this site.
    for tag in re.findall(r"<script[^>]*>", html):
        src = re.search(r'src="([^"]+)"', tag)
        assert src and src.group(1).startswith("/"), tag
    for src in re.findall(r'<script[^>]*src="([^"]+)"', html):
        path = src.split("?")[0]
        if path.startswith(settings.STATIC_URL) or path.startswith(f"/{settings.STATIC_URL}"):
            assert finders.find(path.split(settings.STATIC_URL, 1)[1]), src  # shipped, ours
        else:
            assert Client().get(src).status_code == 200, src  # Swagger UI's settings script


def _schema() -> dict:
    return Client().get(reverse("schema"), headers={"Accept": "application/json"}).json()


def _loose_objects(node, where: str = ""):
    """Every `type: object` that says neither its properties nor what its values are."""
    if isinstance(node, dict):
        if node.get("type") == "object" and not node.get("properties"):
            values = node.get("additionalProperties")
            if not isinstance(values, dict) or not values:
                yield where
        for key, child in node.items():
            yield from _loose_objects(child, f"{where}/{key}")
    elif isinstance(node, list):
        for n, child in enumerate(node):
            yield from _loose_objects(child, f"{where}/{n}")


def test_every_object_in_the_schema_says_what_it_holds():
    assert list(_loose_objects(_schema())) == []


def _body(schema: dict, path: str, method: str) -> dict:
    ref = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def test_a_queue_is_made_with_its_reminder_left_out_and_patched_with_anything_left_out():
    schema = _schema()
    made = _body(schema, "/api/v1/queues/", "post")
    assert "name" in made["required"]
    assert not {"remind_percent", "max_reassignments", "strategy"} & set(made["required"])
    assert "required" not in _body(schema, "/api/v1/queues/{id}/", "patch")
    assert "required" not in _body(schema, "/api/v1/builder/forms/{id}/", "patch")


def test_a_flag_names_a_criterion_by_id_or_none():
    criterion = _body(_schema(), "/api/v1/leads/{id}/flag/", "post")["properties"]["criterion"]
    assert criterion["type"] == "string"
    assert re.fullmatch(criterion["pattern"], "12") and re.fullmatch(criterion["pattern"], "none")
    assert not re.fullmatch(criterion["pattern"], "twelve")


def test_the_resources_show_every_setting_the_pages_edit():
    schemas = _schema()["components"]["schemas"]
    from leads.capture.services import FORM_SETTINGS
    from leads.routing.services import QUEUE_SETTINGS
    from scoring.services import AGREEMENT_SETTINGS

    assert set(FORM_SETTINGS) <= set(schemas["Form"]["properties"])
    assert set(QUEUE_SETTINGS) <= set(schemas["Queue"]["properties"])
    assert set(AGREEMENT_SETTINGS) <= set(schemas["Agreement"]["properties"])


def test_an_agreements_days_off_are_a_list_of_dates():
    holidays = _schema()["components"]["schemas"]["Agreement"]["properties"]["holidays"]
    assert holidays["type"] == "array" and holidays["readOnly"] is True
    assert holidays["items"] == {"type": "string", "format": "date"}
    assert "time_zone" in holidays["description"]
