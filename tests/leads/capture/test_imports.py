"""CSV import: reading values, the preview, the import with history, re-runs and the report."""

import csv
import io
import json
import zoneinfo
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from leads.capture.imports.models import ExternalLeadId, LeadImport
from leads.capture.imports.reading import parse_datetime, parse_decimal, parse_yes_no
from leads.capture.imports.services import (
    import_create,
    import_map,
    import_run,
    import_start,
    preview,
    report_rows,
)
from leads.capture.imports.tasks import queue_import, run_import
from leads.models import Lead, LeadEvent, Stage
from portal.accounts.roles import Role
from scoring.models import Qualification
from tests.factories import AgreementFactory, FormFactory, UserFactory, queue_with_reps

FIXTURE = Path(__file__).parent / "fixtures" / "import_leads.csv"
MAPPING = {
    "columns": {
        "Email": {"to": "field:email"},
        "First name": {"to": "field:first_name"},
        "Company": {"to": "field:company"},
        "Employees": {"to": "field:company_size"},
        "Country": {"to": "field:country", "blank": ["Select", "n/a"]},
        "Partner id": {"to": "external_id"},
        "Created": {
            "to": "created_at",
            "format": ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S%z", "%d/%m/%Y %H:%M %z"],
        },
        "Outcome": {"to": "outcome"},
        "Outcome date": {"to": "outcome_at"},
        "Reason": {"to": "outcome_reason"},
        "Revenue": {"to": "attr:revenue", "type": "decimal"},
        "Newsletter": {"to": "attr:newsletter", "type": "yes_no"},
    }
}


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("2.5", "2.5"),
        ("1,234", "1234"),
        ("1.234,5", "1234.5"),
        ("1,234.5", "1234.5"),
        ("2,5", "2.5"),
        ("1 234", "1234"),
        ("1.234.567", "1234567"),
        ("-3", "-3"),
    ],
)
def test_decimals_are_read_with_either_separator(text, number):
    assert parse_decimal(text) == Decimal(number)


@pytest.mark.parametrize("text", ["lots", "1,2,3.4.5", "NaN", ""])
def test_what_is_not_a_number_is_refused(text):
    with pytest.raises(ValueError, match="Enter a number"):
        parse_decimal(text)


@pytest.mark.parametrize(("text", "value"), [("Yes", True), ("y", True), ("TRUE", True),
                                             ("1", True), ("No", False), ("n", False),
                                             ("false", False), ("0", False)])  # fmt: skip
def test_yes_and_no_in_their_usual_spellings(text, value):
    assert parse_yes_no(text) is value


def test_a_word_that_is_neither_yes_nor_no_is_refused():
    with pytest.raises(ValueError, match="yes or no"):
        parse_yes_no("maybe")


SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")


@pytest.mark.parametrize(
    ("text", "formats", "moment"),
    [
        ("2024-01-05", [], datetime(2024, 1, 5, 3, 0, tzinfo=UTC)),  # midnight in São Paulo
        ("2024-01-05T10:00:00Z", [], datetime(2024, 1, 5, 10, 0, tzinfo=UTC)),
        ("2024-01-05 10:00:00+01:00", [], datetime(2024, 1, 5, 9, 0, tzinfo=UTC)),
        ("Fri, 05 Jan 2024 10:00:00 +0000", [], datetime(2024, 1, 5, 10, 0, tzinfo=UTC)),
        ("2024/01/05", [], datetime(2024, 1, 5, 3, 0, tzinfo=UTC)),
        ("05-01-2024", ["%d-%m-%Y"], datetime(2024, 1, 5, 3, 0, tzinfo=UTC)),
        ("01/05/2024 13:30", ["%m/%d/%Y %H:%M"], datetime(2024, 1, 5, 16, 30, tzinfo=UTC)),
    ],
)
def test_dates_in_several_formats_and_time_zones(text, formats, moment):
    assert parse_datetime(text, formats=formats, tz=SAO_PAULO) == moment


def test_a_day_first_date_needs_its_format():
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_datetime("05-01-2024", formats=[], tz=SAO_PAULO)


@pytest.fixture
def manager(db):
    return UserFactory(role=Role.MARKETING_MANAGER)


@pytest.fixture
def form(db):
    return FormFactory(slug="partners")


def _mapped_import(form, manager, *, content=None, source="partners") -> LeadImport:
    lead_import = import_create(
        form=form,
        source=source,
        file_name="import_leads.csv",
        content=content if content is not None else FIXTURE.read_text(),
        by=manager,
    )
    return import_map(lead_import=lead_import, mapping=MAPPING, time_zone="Europe/Berlin")


def _run(lead_import, django_capture_on_commit_callbacks) -> LeadImport:
    with django_capture_on_commit_callbacks(execute=True):
        import_start(lead_import=lead_import, queue=queue_import)
    lead_import.refresh_from_db()
    return lead_import


def _errors(row) -> list[tuple[str, str]]:
    return [(error.field, error.reason) for error in row.errors]


def test_the_preview_gives_each_row_the_errors_it_would_get(form, manager):
    rows = preview(_mapped_import(form, manager))

    assert [row.number for row in rows if not row.errors] == [1, 2, 3, 7]
    assert _errors(rows[3]) == [
        ("E-mail", "No e-mail address and no external id: the row names no lead.")
    ]
    assert _errors(rows[4]) == [("Work e-mail", "Enter a valid email address.")]
    assert _errors(rows[5]) == [("Employees", "Enter a number.")]
    assert _errors(rows[7]) == [("Created on", "Enter a date as %Y-%m-%d or "
                                 "%Y-%m-%dT%H:%M:%S%z or %d/%m/%Y %H:%M %z.")]  # fmt: skip
    assert _errors(rows[8]) == [("Newsletter", "Enter yes or no.")]
    ana, bob = rows[0], rows[1]
    assert ana.cleaned["company_size"] == 1234
    assert ana.cleaned["revenue"] == "2.5"
    assert ana.cleaned["newsletter"] is True
    assert "country" not in bob.cleaned  # "Select" counts as blank
    assert bob.cleaned["revenue"] == "1234.5"
    assert bob.cleaned["newsletter"] is False
    assert bob.created_at == datetime(2024, 1, 5, 9, 0, tzinfo=UTC)


def test_a_mapping_without_an_identity_is_refused(form, manager):
    lead_import = import_create(
        form=form, source="x", file_name="f.csv", content=FIXTURE.read_text(), by=manager
    )
    with pytest.raises(Exception, match="e-mail field or to the external id"):
        import_map(
            lead_import=lead_import,
            mapping={"columns": {"First name": {"to": "field:first_name"}}},
            time_zone="UTC",
        )


def test_the_import_stores_leads_with_their_history(
    form, manager, django_capture_on_commit_callbacks
):
    AgreementFactory()  # company size at least 50
    rep = UserFactory(role=Role.SALES_REP)
    queue_with_reps(rep)

    done = _run(_mapped_import(form, manager), django_capture_on_commit_callbacks)

    assert (done.status, done.percent, done.processed_rows) == (LeadImport.Status.DONE, 100, 9)
    assert (done.created_leads, done.updated_leads, done.skipped_rows) == (3, 1, 5)
    ana = Lead.objects.get(email="ana@acme.example")
    bob = Lead.objects.get(email="bob@beta.example")
    # An open lead goes through the normal handoff: scored, qualified, routed.
    assert (ana.stage, ana.owner) == (Stage.ROUTED, rep)
    assert ana.created_at == datetime(2024, 1, 4, 23, 0, tzinfo=UTC)  # midnight in Berlin
    assert ana.attributes["company_size"] == 1234
    assert ana.attributes["country"] == "BR"  # as live capture stores it, for the criteria
    # A won lead is scored by the active agreement (and qualifies) but never reaches a rep.
    assert (bob.stage, bob.owner, bob.score) == (Stage.WON, None, 0)
    assert Qualification.objects.get(lead=bob).qualified
    won = bob.events.get(to_stage=Stage.WON)
    assert won.at == datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    assert (won.actor, won.from_stage) == (manager, Stage.CAPTURED)
    assert won.data["import"] == done.pk and won.data["historic"] is True
    assert "imported by" in won.reason
    imported = bob.events.get(kind=LeadEvent.Kind.SUBMISSION_RECEIVED)
    assert (imported.at, imported.actor) == (bob.created_at, manager)
    assert imported.data["import"] == done.pk
    assert bob.submissions.get().received_at == datetime(2024, 1, 5, 9, 0, tzinfo=UTC)


def test_a_lead_without_an_email_is_known_by_its_external_id(
    form, manager, django_capture_on_commit_callbacks
):
    _run(_mapped_import(form, manager), django_capture_on_commit_callbacks)

    known = ExternalLeadId.objects.get(source="partners", external_id="P-7")
    carla = known.lead
    assert carla.email == "p-7@partners.import.invalid"
    assert carla.first_name == "Gina"  # row 7 names the same lead: it updated it
    assert carla.submissions.count() == 2
    rejected = carla.events.get(to_stage=Stage.REJECTED)
    assert (carla.stage, rejected.reason_code) == (Stage.REJECTED, "competitor")
    assert rejected.at == datetime(2024, 1, 1, 23, 0, tzinfo=UTC)
    assert Lead.objects.filter(external_ids__external_id="P-7").count() == 1


def test_the_same_external_id_in_another_source_is_another_lead(
    form, manager, django_capture_on_commit_callbacks
):
    _run(_mapped_import(form, manager), django_capture_on_commit_callbacks)
    _run(_mapped_import(form, manager, source="resellers"), django_capture_on_commit_callbacks)

    assert ExternalLeadId.objects.filter(external_id="P-7").count() == 2
    assert Lead.objects.filter(email__endswith=".import.invalid").count() == 2


def test_running_the_same_file_again_adds_nothing(
    form, manager, django_capture_on_commit_callbacks
):
    _run(_mapped_import(form, manager), django_capture_on_commit_callbacks)
    before = (Lead.objects.count(), LeadEvent.objects.count())

    again = _run(_mapped_import(form, manager), django_capture_on_commit_callbacks)

    assert (again.created_leads, again.updated_leads, again.unchanged_rows) == (0, 0, 4)
    assert (Lead.objects.count(), LeadEvent.objects.count()) == before


def test_a_changed_row_updates_its_lead_and_does_not_duplicate_it(
    form, manager, django_capture_on_commit_callbacks
):
    _run(_mapped_import(form, manager), django_capture_on_commit_callbacks)
    changed = FIXTURE.read_text().replace(
        "ana@acme.example,Ana,Acme", "ana@acme.example,Ana,Acme Corp"
    )

    again = _run(_mapped_import(form, manager, content=changed), django_capture_on_commit_callbacks)

    assert (again.created_leads, again.updated_leads, again.unchanged_rows) == (0, 1, 3)
    assert Lead.objects.get(email="ana@acme.example").company == "Acme Corp"


def test_the_report_lists_every_skipped_row_and_why(
    form, manager, django_capture_on_commit_callbacks
):
    done = _run(_mapped_import(form, manager), django_capture_on_commit_callbacks)

    header, *rows = list(report_rows(done))
    assert header[:4] == ["row", "outcome", "field", "reason"]
    assert [(row[0], row[1], row[2]) for row in rows] == [
        (4, "skipped", "E-mail"),
        (5, "skipped", "Work e-mail"),
        (6, "skipped", "Employees"),
        (8, "skipped", "Created on"),
        (9, "skipped", "Newsletter"),
    ]
    assert rows[2][header.index("Employees")] == "lots"
    assert set(done.rows.values_list("outcome", flat=True)) == {"created", "updated", "skipped"}


def test_countries_are_stored_as_iso_codes_and_an_unknown_one_is_kept_and_reported(
    form, manager, django_capture_on_commit_callbacks
):
    content = "Email,Land\nana@acme.example,Deutschland\nbo@beta.example,Narnia\n"
    lead_import = import_create(
        form=form, source="s", file_name="f.csv", content=content, by=manager
    )
    lead_import = import_map(
        lead_import=lead_import,
        mapping={
            "columns": {
                "Email": {"to": "field:email"},
                "Land": {"to": "attr:country"},
            }
        },
        time_zone="UTC",
    )

    done = _run(lead_import, django_capture_on_commit_callbacks)

    # Live capture stores codes; an imported lead must match the same "country is in" criteria.
    assert Lead.objects.get(email="ana@acme.example").attributes["country"] == "DE"
    bo = Lead.objects.get(email="bo@beta.example")
    assert bo.attributes["country"] == "Narnia"
    [problem] = bo.submissions.get().problems
    assert (problem["field"], problem["code"], problem["raw"]) == (
        "country",
        "unknown_country",
        "Narnia",
    )
    _header, *rows = list(report_rows(done))
    assert [(row[0], row[1], row[2]) for row in rows] == [(2, "created", "Land")]
    assert "Narnia" in rows[0][3] and "kept as sent" in rows[0][3]


def test_progress_moves_chunk_by_chunk_to_100(form, manager, monkeypatch):
    monkeypatch.setattr("leads.capture.imports.services.CHUNK_ROWS", 4)
    lead_import = _mapped_import(form, manager)
    LeadImport.objects.filter(pk=lead_import.pk).update(status=LeadImport.Status.QUEUED)
    seen = []

    import_run(lead_import_id=lead_import.pk, progress=lambda i: seen.append(i.percent))

    lead_import.refresh_from_db()
    assert seen == [44, 88, 100]
    assert (lead_import.percent, lead_import.status) == (100, LeadImport.Status.DONE)


def test_a_run_with_no_time_left_stops_after_a_chunk_and_the_next_resumes(
    form, manager, monkeypatch
):
    monkeypatch.setattr("leads.capture.imports.services.CHUNK_ROWS", 4)
    lead_import = _mapped_import(form, manager)
    LeadImport.objects.filter(pk=lead_import.pk).update(status=LeadImport.Status.QUEUED)

    first = import_run(lead_import_id=lead_import.pk, budget_seconds=0)
    assert (first.status, first.processed_rows) == (LeadImport.Status.RUNNING, 4)
    second = import_run(lead_import_id=lead_import.pk)

    assert (second.status, second.processed_rows) == (LeadImport.Status.DONE, 9)
    assert second.rows.count() == 9


def test_the_import_task_runs_on_the_bulk_queue():
    assert run_import.queue == settings.CELERY_BULK_QUEUE != settings.CELERY_HANDOFF_QUEUE


def test_starting_twice_queues_once(form, manager, django_capture_on_commit_callbacks):
    lead_import = _mapped_import(form, manager)
    sent = []
    with django_capture_on_commit_callbacks(execute=True):
        import_start(lead_import=lead_import, queue=sent.append)
        import_start(lead_import=lead_import, queue=sent.append)
    assert sent == [lead_import.pk]


def _decoded(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_sweeper_queues_again_only_imports_whose_message_was_lost(form, manager, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from leads.capture.imports import tasks

    past, future = timezone.now() - timedelta(seconds=1), timezone.now() + timedelta(hours=1)
    lost = _mapped_import(form, manager)
    waiting = _mapped_import(form, manager)
    done = _mapped_import(form, manager)
    LeadImport.objects.filter(pk=lost.pk).update(status="running", due_at=past)
    LeadImport.objects.filter(pk=waiting.pk).update(status="queued", due_at=future)
    LeadImport.objects.filter(pk=done.pk).update(status="done", due_at=past)
    sent = []
    monkeypatch.setattr(tasks, "queue_import", lambda pk: sent.append(pk) or True)

    tasks.sweep_imports()
    tasks.sweep_imports()  # leased again: not sent twice

    assert sent == [lost.pk]
    lost.refresh_from_db()
    assert lost.due_at > timezone.now()


def test_a_finished_import_leaves_the_sweepers_index(
    form, manager, django_capture_on_commit_callbacks
):
    done = _run(_mapped_import(form, manager), django_capture_on_commit_callbacks)
    assert done.due_at is None


PEOPLE = "Email,First name\nAnn+Promo@ACME.example,Ann\n Bo@Beta.Example ,Bo\n"
PEOPLE_MAPPING = {
    "columns": {"Email": {"to": "field:email"}, "First name": {"to": "field:first_name"}}
}


def _import_people(form, manager, django_capture_on_commit_callbacks) -> LeadImport:
    lead_import = import_create(
        form=form, source="people", file_name="people.csv", content=PEOPLE, by=manager
    )
    import_map(lead_import=lead_import, mapping=PEOPLE_MAPPING, time_zone="UTC")
    return _run(lead_import, django_capture_on_commit_callbacks)


def test_an_import_knows_people_by_the_rule_live_capture_uses(
    form, manager, client, settings, django_capture_on_commit_callbacks
):
    settings.LEADBRIDGE_FOLD_PLUS_ADDRESSES = True
    for email in ("ann@acme.example", "BO@beta.example"):
        assert client.post(f"/f/{form.slug}/", {"email": email}).status_code == 302

    done = _import_people(form, manager, django_capture_on_commit_callbacks)

    assert (done.created_leads, done.updated_leads) == (0, 2)
    assert sorted(Lead.objects.values_list("email", flat=True)) == [
        "ann@acme.example",
        "bo@beta.example",
    ]
    ann = Lead.objects.get(email="ann@acme.example")
    assert ann.attributes["email"] == "ann+promo@acme.example"  # as written, lower-cased
    assert ann.submissions.count() == 2


def test_without_folding_a_plus_address_is_another_lead_also_in_an_import(
    form, manager, client, django_capture_on_commit_callbacks
):
    assert client.post(f"/f/{form.slug}/", {"email": "ann@acme.example"}).status_code == 302

    done = _import_people(form, manager, django_capture_on_commit_callbacks)

    assert (done.created_leads, done.updated_leads) == (2, 0)
    assert Lead.objects.filter(email="ann+promo@acme.example").exists()
    assert Lead.objects.filter(email="bo@beta.example").exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_import_publishes_one_hand_off_per_chunk_not_per_row(monkeypatch):
    from leads.handoff import outbox

    sent = []
    monkeypatch.setattr(outbox, "publish", lambda task, *args: sent.append(task.name))
    form = FormFactory(slug="chunks")
    manager = UserFactory(role=Role.MARKETING_MANAGER)
    rows = "".join(f"lead{n}@acme.example,Lead {n}\n" for n in range(150))
    lead_import = import_create(
        form=form,
        source="chunks",
        file_name="chunks.csv",
        content="Email,First name\n" + rows,
        by=manager,
    )
    import_map(lead_import=lead_import, mapping=PEOPLE_MAPPING, time_zone="UTC")
    LeadImport.objects.filter(pk=lead_import.pk).update(status=LeadImport.Status.QUEUED)

    done = import_run(lead_import_id=lead_import.pk)

    assert done.created_leads == 150
    assert sent == ["handoff.hand_off", "handoff.hand_off"]  # two chunks of at most 100


def _kept_in_nurture(lead) -> None:
    """Scored, qualified, and kept from reps with the reason on its timeline."""
    assert (lead.stage, lead.owner, lead.queue) == (Stage.RECYCLED, None, None)
    assert Qualification.objects.get(lead=lead).qualified
    kept = lead.events.get(to_stage=Stage.RECYCLED)
    assert kept.from_stage == Stage.QUALIFIED
    assert "told not to hand open leads to reps" in kept.reason
    assert kept.data == {"not_for_reps": True}


def test_an_import_told_not_to_route_scores_open_leads_and_keeps_them_from_reps(
    form, manager, client, django_capture_on_commit_callbacks
):
    AgreementFactory()  # company size at least 50
    rep = UserFactory(role=Role.SALES_REP)
    queue_with_reps(rep)
    lead_import = _mapped_import(form, manager)
    import_map(
        lead_import=lead_import, mapping=MAPPING, time_zone="Europe/Berlin", route_open_leads=False
    )

    done = _run(lead_import, django_capture_on_commit_callbacks)

    assert done.created_leads == 3
    _kept_in_nurture(Lead.objects.get(email="ana@acme.example"))
    bob = Lead.objects.get(email="bob@beta.example")
    assert (bob.stage, bob.owner) == (Stage.WON, None)  # history is recorded as before
    assert not Lead.objects.exclude(owner=None).exists()
    # A form post of her own makes her a live lead again: scored, qualified, routed.
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/f/{form.slug}/", {"email": "ana@acme.example"}).status_code == 302
    ana = Lead.objects.get(email="ana@acme.example")
    assert (ana.stage, ana.owner) == (Stage.ROUTED, rep)


def test_the_command_does_not_hand_open_leads_to_reps_with_no_route(
    form, tmp_path, capsys, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    AgreementFactory()
    queue_with_reps(UserFactory(role=Role.SALES_REP))
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({**MAPPING, "form": {"slug": form.slug}, "source": "p"}))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_leads", FIXTURE, "--mapping", mapping, "--no-route",
                     "--report", tmp_path / "report.csv")  # fmt: skip

    assert "not handed to reps (--no-route)" in capsys.readouterr().out
    assert LeadImport.objects.get().route_open_leads is False
    _kept_in_nurture(Lead.objects.get(email="ana@acme.example"))
    assert not Lead.objects.exclude(owner=None).exists()


def _queued(form, manager, content: str, columns: dict) -> LeadImport:
    lead_import = import_create(
        form=form, source="s", file_name="f.csv", content=content, by=manager
    )
    import_map(lead_import=lead_import, mapping={"columns": columns}, time_zone="UTC")
    LeadImport.objects.filter(pk=lead_import.pk).update(status=LeadImport.Status.QUEUED)
    return lead_import


def test_the_task_reads_cr_only_lines_and_skips_the_row_of_an_over_long_cell(form, manager):
    content = (
        "Email,Company,Notes,Ignored\r"
        f"ana@acme.example,Acme,ok,{'y' * 200_000}\r"
        f"bob@beta.example,Beta,{'x' * 131_073},\r"
        "cy@gamma.example,Gamma,fine,\r"
    )
    columns = {
        "Email": {"to": "field:email"},
        "Company": {"to": "field:company"},
        "Notes": {"to": "attr:notes"},
    }
    lead_import = _queued(form, manager, content, columns)

    run_import(lead_import.pk)

    lead_import.refresh_from_db()
    assert lead_import.status == LeadImport.Status.DONE
    assert (lead_import.created_leads, lead_import.skipped_rows) == (2, 1)
    assert set(Lead.objects.values_list("email", flat=True)) == {
        "ana@acme.example",
        "cy@gamma.example",
    }
    _header, *rows = list(report_rows(lead_import))
    assert [row[:4] for row in rows] == [
        [
            2,
            "skipped",
            "Notes",
            "Longer than 131,072 characters (it has 131,073): no field takes that much.",
        ]
    ]


def test_the_task_fails_an_import_whose_file_cannot_be_read_with_the_reason(form, manager):
    lead_import = _queued(
        form, manager, "Email,Notes\na@acme.example,short\nb@acme.example," + "x" * 50 + "\n",
        {"Email": {"to": "field:email"}},
    )  # fmt: skip
    old = csv.field_size_limit(20)  # as if the reader's limit were lower than the file's cell
    try:
        run_import(lead_import.pk)
    finally:
        csv.field_size_limit(old)

    lead_import.refresh_from_db()
    assert lead_import.status == LeadImport.Status.FAILED
    assert lead_import.failure.startswith("Line 3 of the file cannot be read")


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("1", Stage.WON),
        ("Yes", Stage.WON),
        ("TRUE", Stage.WON),
        ("Converted", Stage.WON),
        ("won", Stage.WON),
        ("0", Stage.LOST),
        ("no", Stage.LOST),
        ("False", Stage.LOST),
        ("not converted", Stage.LOST),
        ("Not", Stage.LOST),
        ("Lost", Stage.LOST),
        ("rejected", Stage.REJECTED),
        ("maybe", None),
    ],
)
def test_outcomes_in_the_values_files_really_have(text, outcome):
    from leads.capture.imports.reading import parse_outcome

    assert parse_outcome(text) == outcome


def test_an_outcome_without_a_date_takes_the_leads_own_date_and_the_preview_says_so(form):
    content = (
        "Email,Company,Created,Converted\n"
        "ana@acme.example,Acme,2019-03-04,1\n"
        "bo@acme.example,Acme,2019-05-06,0\n"
        "cy@acme.example,Acme,,1\n"
    )
    lead_import = import_create(
        form=form, source="course", file_name="history.csv", content=content, by=UserFactory()
    )
    import_map(
        lead_import=lead_import,
        mapping={
            "columns": {
                "Email": {"to": "field:email"},
                "Company": {"to": "field:company"},
                "Created": {"to": "created_at", "format": ["%Y-%m-%d"]},
                "Converted": {"to": "outcome"},
            }
        },
        time_zone="UTC",
    )
    ana, bo, cy = preview(lead_import=lead_import)
    assert (ana.outcome, ana.outcome_at) == (Stage.WON, datetime(2019, 3, 4, tzinfo=UTC))
    assert (bo.outcome, bo.outcome_at) == (Stage.LOST, datetime(2019, 5, 6, tzinfo=UTC))
    assert ana.errors == bo.errors == cy.errors == []
    assert "the lead's own date" in ana.warnings[0].reason
    assert cy.outcome == Stage.WON and "today" in cy.warnings[0].reason
