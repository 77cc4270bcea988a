"""The import pages: upload, map, preview, start, progress and the report, as a manager."""

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leads.capture.imports.models import LeadImport
from leads.models import Lead, Stage
from portal.accounts.roles import Role
from tests.factories import AgreementFactory, FormFactory, UserFactory, queue_with_reps

pytestmark = pytest.mark.django_db
FIXTURE = Path(__file__).parent / "fixtures" / "import_leads.csv"


@pytest.fixture
def client(client):
    client.force_login(UserFactory(role=Role.MARKETING_MANAGER))
    return client


def _upload(client, form, content: bytes = b""):
    data = content or FIXTURE.read_bytes()
    return client.post(
        reverse("capture:import_new"),
        {
            "file": SimpleUploadedFile("leads.csv", data, content_type="text/csv"),
            "form": form.pk,
            "source": "partners",
            "time_zone": "Europe/Berlin",
        },
    )


def _mapping_post(lead_import: LeadImport, **overrides) -> dict:
    targets = {
        "Email": "field:email",
        "Employees": "field:company_size",
        "Country": "field:country",
        "Partner id": "external_id",
        "Newsletter": "attr:",
    }
    post = {"time_zone": "Europe/Berlin"}
    for index, name in enumerate(lead_import.columns):
        post[f"to-{index}"] = targets.get(name, "ignore")
        post[f"type-{index}"] = "yes_no" if name == "Newsletter" else "text"
    post[f"blank-{lead_import.columns.index('Country')}"] = "Select, n/a"
    post.update(overrides)
    return post


def test_upload_map_preview_start_and_report(client, django_capture_on_commit_callbacks):
    form = FormFactory()
    response = _upload(client, form)
    lead_import = LeadImport.objects.get()
    assert response.url == lead_import.get_absolute_url()
    # Columns named like the form's fields are mapped already.
    page = client.get(response.url)
    assert 'value="field:email" selected' in page.content.decode()

    saved = client.post(response.url, _mapping_post(lead_import))
    assert saved.status_code == 302
    lead_import.refresh_from_db()
    assert lead_import.mapping["columns"]["Country"]["blank"] == ["Select", "n/a"]
    assert lead_import.mapping["columns"]["Newsletter"] == {"to": "attr:", "type": "yes_no"}

    page = client.get(response.url).content.decode()
    assert "<strong>Employees</strong>: Enter a number." in page
    assert "No e-mail address and no external id" in page
    assert "<strong>Newsletter</strong>: Enter yes or no." in page

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(reverse("capture:import_start", kwargs={"pk": lead_import.pk}))
    assert started.url == response.url
    progress = client.get(reverse("capture:import_progress", kwargs={"pk": lead_import.pk}))
    state = progress.json()
    assert (state["status"], state["percent"], state["finished"]) == ("done", 100, True)
    # No history columns are mapped: row 8's date is not read.
    assert (state["created"], state["updated"], state["skipped"]) == (4, 1, 4)
    assert Lead.objects.count() == 4
    assert "Download the report" in client.get(response.url).content.decode()

    report = client.get(state["report"])
    assert report["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(report.content.decode())))
    assert [row[:3] for row in rows[1:]] == [
        ["4", "skipped", "E-mail"],
        ["5", "skipped", "Work e-mail"],
        ["6", "skipped", "Employees"],
        ["9", "skipped", "Newsletter"],
    ]


def test_a_bad_mapping_is_explained_and_not_saved(client):
    _upload(client, FormFactory())
    lead_import = LeadImport.objects.get()
    post = _mapping_post(lead_import)
    post[f"to-{lead_import.columns.index('Email')}"] = "ignore"
    post[f"to-{lead_import.columns.index('Partner id')}"] = "ignore"

    page = client.post(lead_import.get_absolute_url(), post)

    assert page.status_code == 200
    assert 'role="alert" id="mapping-problem"' in page.content.decode()
    assert "e-mail field or to the external id" in page.content.decode()
    lead_import.refresh_from_db()
    assert lead_import.mapping["columns"]["Email"]["to"] == "field:email"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "This field is required"),  # an empty upload is no file
        (b"email\n", "no rows"),
        (b"email,email\na,b\n", "every column once"),
        (b"\xff\xfe\x00\x00" * 10, "not text"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_with_the_reason(client, content, reason):
    form = FormFactory()
    if content:
        response = _upload(client, form, content)
    else:
        response = client.post(reverse("capture:import_new"), {"form": form.pk, "source": "s"})
    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not LeadImport.objects.exists()


def test_a_started_import_shows_its_progress_instead_of_the_mapping(client):
    form = FormFactory()
    _upload(client, form)
    lead_import = LeadImport.objects.get()
    LeadImport.objects.filter(pk=lead_import.pk).update(
        status=LeadImport.Status.RUNNING, processed_rows=3
    )

    page = client.get(lead_import.get_absolute_url()).content.decode()

    assert 'aria-valuenow="33"' in page
    assert "Start the import" not in page


def test_the_mapping_page_keeps_open_leads_from_reps_when_asked(
    client, django_capture_on_commit_callbacks
):
    AgreementFactory()  # company size at least 50
    queue_with_reps(UserFactory(role=Role.SALES_REP))
    _upload(client, FormFactory())
    lead_import = LeadImport.objects.get()
    page = client.get(lead_import.get_absolute_url()).content.decode()
    assert 'id="no_route" name="no_route" aria-describedby="no_route-help">' in page  # unticked

    client.post(lead_import.get_absolute_url(), _mapping_post(lead_import, no_route="on"))

    lead_import.refresh_from_db()
    assert lead_import.route_open_leads is False
    page = client.get(lead_import.get_absolute_url()).content.decode()
    assert 'aria-describedby="no_route-help" checked>' in page
    assert "Open leads are not handed to reps:" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("capture:import_start", kwargs={"pk": lead_import.pk}))
    page = client.get(lead_import.get_absolute_url()).content.decode()
    assert 'id="import-no-route"' in page
    recycled = Lead.objects.filter(stage=Stage.RECYCLED).count()
    assert recycled > 0
    assert f'<a href="/leads/?stage=recycled">Recycled (nurture)</a>: {recycled}' in page
    assert not Lead.objects.exclude(owner=None).exists()


def test_saving_the_mapping_again_without_the_box_hands_open_leads_to_reps(client):
    _upload(client, FormFactory())
    lead_import = LeadImport.objects.get()
    client.post(lead_import.get_absolute_url(), _mapping_post(lead_import, no_route="on"))

    client.post(lead_import.get_absolute_url(), _mapping_post(lead_import))

    lead_import.refresh_from_db()
    assert lead_import.route_open_leads is True


def test_a_file_with_cr_only_line_endings_is_read_line_by_line(
    client, django_capture_on_commit_callbacks
):
    content = (
        b'Email,First name,Company\rana@acme.example,Ana,"Acme, Inc"\rbob@beta.example,Bob,Beta\r'
    )
    response = _upload(client, FormFactory(), content)
    assert response.status_code == 302
    lead_import = LeadImport.objects.get()
    assert (lead_import.columns, lead_import.total_rows) == (["Email", "First name", "Company"], 2)
    page = client.get(response.url).content.decode()
    assert "<code>company</code>=Acme, Inc" in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("capture:import_start", kwargs={"pk": lead_import.pk}))

    leads = Lead.objects.order_by("email").values_list("email", "first_name", "company")
    assert list(leads) == [
        ("ana@acme.example", "Ana", "Acme, Inc"),
        ("bob@beta.example", "Bob", "Beta"),
    ]


LONG = "Longer than 131,072 characters (it has 131,073): no field takes that much."


def test_an_over_long_cell_is_the_error_of_its_row_and_column_not_a_500(
    client, django_capture_on_commit_callbacks
):
    notes = "x" * 131_073
    content = f"Email,Company,Notes\nana@acme.example,Acme,short\nbob@beta.example,Beta,{notes}\n"
    response = _upload(client, FormFactory(), content.encode())
    assert response.status_code == 302
    lead_import = LeadImport.objects.get()
    mapping = {"to-0": "field:email", "to-1": "field:company", "to-2": "attr:", "time_zone": "UTC"}
    assert client.post(response.url, mapping).status_code == 302

    page = client.get(response.url)
    assert page.status_code == 200
    assert f"<strong>Notes</strong>: {LONG}" in page.content.decode()
    assert notes not in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("capture:import_start", kwargs={"pk": lead_import.pk}))
    state = client.get(reverse("capture:import_progress", kwargs={"pk": lead_import.pk})).json()
    assert (state["status"], state["created"], state["skipped"]) == ("done", 1, 1)
    report = list(csv.reader(io.StringIO(client.get(state["report"]).content.decode())))
    assert report[1][:4] == ["2", "skipped", "Notes", LONG]


def test_a_stored_file_that_cannot_be_read_is_explained_on_the_mapping_page(client):
    _upload(client, FormFactory(), b"Email,Notes\na@acme.example," + b"x" * 50 + b"\n")
    lead_import = LeadImport.objects.get()
    old = csv.field_size_limit(20)  # as if the reader's limit were lower than the file's cell
    try:
        page = client.get(lead_import.get_absolute_url())
    finally:
        csv.field_size_limit(old)
    assert page.status_code == 200
    assert "Line 2 of the file cannot be read" in page.content.decode()
