"""Web-to-Lead keeps every post Salesforce would keep (house rule 11).

Salesforce requires a last name and a company; everything else it stores as sent. So here a
field the form refuses is stored raw, its problem recorded on the submission, and the visitor
sent on to retURL with Salesforce's 200 page. The bodies in fixtures/web_to_lead are posts as
the HTML form Salesforce generates sends them (a real org's field names, `submit` included).
"""

from pathlib import Path

import pytest

from leads.capture.models import FormField
from leads.capture.services import form_publish
from leads.models import Lead, Submission
from portal.accounts.roles import Role
from scoring.models import Criterion
from tests.factories import AgreementFactory, CriterionFactory, FormFactory, UserFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "web_to_lead"
SERVLET = "/servlet/servlet.WebToLead?encoding=UTF-8"
FORM_ENCODED = "application/x-www-form-urlencoded"
RET_URL = "https://www.acme.example/thanks"


@pytest.fixture
def form():
    form = FormFactory(publish=False)
    for position, (key, label, kind) in enumerate(
        [
            ("last_name", "Last name", FormField.Kind.TEXT),
            ("job_title", "Job title", FormField.Kind.TEXT),
            ("phone", "Phone", FormField.Kind.PHONE),
        ],
        start=5,
    ):
        FormField.objects.create(form=form, key=key, label=label, kind=kind, position=position)
    form.allowed_origins = ["https://www.acme.example"]
    form.save(update_fields=["allowed_origins"])
    form_publish(form=form, by=None)
    form.refresh_from_db()
    return form


def post_fixture(client, form, name: str, url: str = SERVLET):
    body = (FIXTURES / f"{name}.txt").read_text().replace("{oid}", str(form.guid))
    return client.post(url, body, content_type=FORM_ENCODED)


def assert_sent_on_to_ret_url(response):
    """Salesforce's answer: 200, a page whose refresh (and link) goes to retURL."""
    assert response.status_code == 200, response.content[:500]
    page = response.content.decode()
    assert f'<meta http-equiv="refresh" content="0; url={RET_URL}">' in page
    assert f'href="{RET_URL}"' in page


def problems_of(submission) -> dict[str, tuple[str, object]]:
    return {problem["field"]: (problem["code"], problem["raw"]) for problem in submission.problems}


@pytest.mark.parametrize(
    ("fixture", "field", "code", "raw"),
    [
        ("invalid_email", "email", "invalid", "ana at acme.example"),
        ("local_phone", "phone", "invalid_phone", "555-0100"),
        ("country_unknown", "country", "invalid_choice", "Yugoslavia"),
        ("employees_range", "company_size", "invalid", "50-100"),
    ],
)
def test_a_value_the_form_refuses_is_stored_raw_with_its_problem(
    client, form, fixture, field, code, raw
):
    response = post_fixture(client, form, fixture)
    assert_sent_on_to_ret_url(response)
    submission = Submission.objects.get()
    assert problems_of(submission) == {field: (code, raw)}
    assert submission.problems[0]["message"]
    assert submission.payload[field] == raw
    lead = submission.lead
    # An address we cannot read is not one: the agreement reads the e-mail as missing.
    assert lead.attributes.get(field) == (None if field == "email" else raw)
    assert (lead.last_name, lead.company) == ("Souza", "Acme")


def test_a_salesforce_country_list_spelling_is_the_country_it_names(client, form):
    FormField.objects.filter(form=form, key="country").update(
        kind=FormField.Kind.COUNTRY, choices=[]
    )
    form_publish(form=form, by=None)
    form.refresh_from_db()
    assert_sent_on_to_ret_url(post_fixture(client, form, "country_in_words"))
    submission = Submission.objects.get()
    assert submission.payload["country"] == "USA (United States of America)"
    assert submission.problems == []
    assert submission.lead.attributes["country"] == "US"


def test_a_post_without_a_valid_email_makes_a_lead_of_its_own(client, form):
    assert_sent_on_to_ret_url(post_fixture(client, form, "invalid_email"))
    assert_sent_on_to_ret_url(post_fixture(client, form, "invalid_email"))
    assert_sent_on_to_ret_url(post_fixture(client, form, "missing_email"))
    assert Submission.objects.count() == 3
    leads = list(Lead.objects.order_by("pk"))
    assert len(leads) == 3  # nothing to know them by: no stranger's post joins another's lead
    assert [lead.email for lead in leads] == [None, None, None]
    assert "email" not in leads[0].attributes
    assert "email" not in leads[2].attributes
    assert problems_of(leads[2].submissions.get()) == {"email": ("required", "")}
    assert leads[2].attributes["phone"] == "+558134210000"


def test_more_than_twenty_undeclared_fields_are_all_kept(client, form):
    assert_sent_on_to_ret_url(post_fixture(client, form, "many_custom_fields"))
    submission = Submission.objects.get()
    custom = [name for name in submission.payload if name.startswith("00N")]
    assert len(custom) == 24
    assert submission.payload["00N5e00000Abc24X"] == "answer 24"
    assert problems_of(submission) == {"__all__": ("too_many_fields", "")}
    assert submission.lead.email == "ana@acme.example"


def test_a_latin_1_body_is_read_as_windows_1252_and_the_problem_noted(client, form):
    assert_sent_on_to_ret_url(post_fixture(client, form, "latin1_body"))
    submission = Submission.objects.get()
    lead = submission.lead
    assert (lead.first_name, lead.last_name, lead.company) == (
        "José",
        "Müller",
        "Caf\u00e9 \u2013 Bar",
    )
    assert problems_of(submission) == {
        "first_name": ("invalid_encoding", "Jos%E9"),
        "last_name": ("invalid_encoding", "M%FCller"),
        "company": ("invalid_encoding", "Caf%E9 %96 Bar"),
    }


@pytest.mark.parametrize("encoding", ["ISO-8859-1", "windows-1252"])
def test_a_declared_encoding_is_the_one_the_post_is_read_in(client, form, encoding):
    url = f"/servlet/servlet.WebToLead?encoding={encoding}"
    assert_sent_on_to_ret_url(post_fixture(client, form, "latin1_body", url=url))
    submission = Submission.objects.get()
    assert submission.lead.company == "Caf\u00e9 \u2013 Bar"
    assert submission.problems == []


def test_an_unknown_declared_encoding_is_read_as_utf8_and_noted(client, form):
    url = "/servlet/servlet.WebToLead?encoding=klingon"
    assert_sent_on_to_ret_url(post_fixture(client, form, "employees_range", url=url))
    problems = problems_of(Submission.objects.get())
    assert problems["encoding"] == ("unsupported_charset", "klingon")


@pytest.mark.parametrize(
    ("fixture", "label"), [("no_company", "Company"), ("no_last_name", "Last name")]
)
def test_without_what_salesforce_requires_the_post_is_refused(client, form, fixture, label):
    response = post_fixture(client, form, fixture)
    assert response.status_code == 400
    assert f"{label}: This field is required." in response.content.decode()
    assert not Submission.objects.exists()


def test_the_agreement_judges_a_raw_value_and_says_why_it_fails(
    client, form, django_capture_on_commit_callbacks
):
    AgreementFactory()  # mandatory: company size at least 50
    with django_capture_on_commit_callbacks(execute=True):
        assert_sent_on_to_ret_url(post_fixture(client, form, "employees_range"))
    lead = Lead.objects.get()
    result = lead.qualifications.get().results.get()
    assert not result.passed
    assert "50-100" in result.reason


def test_the_agreement_reads_an_email_it_could_not_read_as_missing(
    client, form, django_capture_on_commit_callbacks
):
    agreement = AgreementFactory(criteria=False)
    CriterionFactory(
        agreement=agreement,
        label="Work e-mail",
        attribute="email",
        operator=Criterion.Operator.NOT_FREE_MAIL,
        value=None,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert_sent_on_to_ret_url(post_fixture(client, form, "invalid_email"))
    result = Lead.objects.get().qualifications.get().results.get()
    assert not result.passed
    assert "email is missing" in result.reason


def test_the_lead_page_shows_each_problem_to_a_marketer(client, form):
    post_fixture(client, form, "employees_range")
    post_fixture(client, form, "local_phone")
    client.force_login(UserFactory(role=Role.MARKETER))
    lead = Lead.objects.get()
    page = client.get(lead.get_absolute_url()).content.decode()
    assert 'id="field-problems"' in page
    assert "Employees" in page and "“50-100”" in page
    assert "Phone" in page and "“555-0100”" in page


def test_a_country_no_spelling_maps_is_kept_and_said_so(client, form):
    # A plain text field called "country": the form takes any text, the portal knows codes.
    FormField.objects.filter(form=form, key="country").update(kind=FormField.Kind.TEXT)
    form_publish(form=form, by=None)
    body = (FIXTURES / "employees_range.txt").read_text().replace("{oid}", str(form.guid))
    body = body.replace("employees=50-100", "employees=120&country=Atlantis")
    assert_sent_on_to_ret_url(client.post(SERVLET, body, content_type=FORM_ENCODED))
    submission = Submission.objects.get()
    assert problems_of(submission) == {"country": ("unknown_country", "Atlantis")}
    assert submission.lead.attributes["country"] == "Atlantis"


def test_a_country_in_a_common_spelling_is_stored_as_its_code(client, form):
    body = (FIXTURES / "employees_range.txt").read_text().replace("{oid}", str(form.guid))
    body = body.replace("employees=50-100", "employees=120&country=Brasil")
    assert_sent_on_to_ret_url(client.post(SERVLET, body, content_type=FORM_ENCODED))
    submission = Submission.objects.get()
    # The form's country is a choice of names: "Brasil" is none of them (recorded), and the
    # lead still knows the country by its code.
    assert "unknown_country" not in {problem["code"] for problem in submission.problems}
    assert submission.lead.attributes["country"] == "BR"
