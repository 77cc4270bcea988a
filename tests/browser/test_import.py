"""A marketing manager imports a CSV file in Chromium: upload, map, preview, progress, report."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from leads.capture.imports.models import LeadImport
from leads.models import Lead
from portal.demo.services import demo_seed
from tests.browser.test_form_builder import labelled, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
FIXTURE = (
    Path(__file__).resolve().parents[1] / "leads" / "capture" / "fixtures" / "import_leads.csv"
)


def test_manager_uploads_maps_previews_and_imports_a_csv(page: Page, snap):
    demo_seed(leads=0)
    log_in(page, "marketing.manager")

    page.get_by_role("link", name="Imports").click()
    page.get_by_role("link", name="New import").click()
    labelled(page, "CSV file").set_input_files(FIXTURE)
    labelled(page, "Import into the form").select_option(label="Talk to sales")
    labelled(page, "Source").fill("partners")
    labelled(page, "Time zone of the dates").select_option("Europe/Berlin")
    snap("import-upload")
    page.get_by_role("button", name="Upload and map the columns").click()

    expect(page.get_by_role("heading", name="Map the columns of import_leads.csv")).to_be_visible()
    page.get_by_label("Partner id goes to").select_option("external_id")
    page.get_by_label("Created goes to").select_option("created_at")
    page.get_by_label("Date format of Created").fill("%Y-%m-%d")
    page.get_by_label("Outcome goes to").select_option("outcome")
    page.get_by_label("Outcome date goes to").select_option("outcome_at")
    page.get_by_label("Reason goes to").select_option("outcome_reason")
    page.get_by_label("Newsletter goes to").select_option("attr:")
    page.get_by_label("Type of Newsletter").select_option("yes_no")
    page.get_by_label("Blank values of Country").fill("Select, n/a")
    page.get_by_role("button", name="Save the mapping and preview").click()

    expect(page.get_by_role("status")).to_contain_text("Mapping saved")
    preview = page.locator("#preview")
    rows = preview.locator("tbody tr")
    expect(rows).to_have_count(9)
    expect(rows.nth(3)).to_contain_text("No e-mail address and no external id")
    expect(rows.nth(8)).to_contain_text("Newsletter: Enter yes or no.")
    snap("import-preview")

    page.get_by_role("button", name=re.compile("Start the import of 9 rows")).click()
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#import-created")).to_have_text(str(Lead.objects.count()))
    snap("import-done")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download the report")).click()
    report = Path(download.value.path()).read_text()
    assert report.splitlines()[0].startswith("row,outcome,field,reason,")
    assert "No e-mail address and no external id" in report


def test_the_progress_bar_follows_a_running_import(page: Page, snap):
    demo_seed(leads=0)
    running = LeadImport.objects.create(
        form=LeadImport._meta.get_field("form").related_model.objects.first(),
        source="partners",
        file_name="big.csv",
        content="email\n",
        status=LeadImport.Status.RUNNING,
        total_rows=200,
        processed_rows=50,
    )
    log_in(page, "marketing.manager")
    page.goto(running.get_absolute_url())
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "25")
    snap("import-running")

    LeadImport.objects.filter(pk=running.pk).update(processed_rows=200, status="done")

    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_role("link", name=re.compile("Download the report"))).to_be_visible()


def test_manager_imports_history_without_handing_open_leads_to_reps(page: Page, snap):
    demo_seed(leads=0)  # the demo agreement is active and its queues have reps
    log_in(page, "marketing.manager")
    page.get_by_role("link", name="Imports").click()
    page.get_by_role("link", name="New import").click()
    labelled(page, "CSV file").set_input_files(FIXTURE)
    labelled(page, "Import into the form").select_option(label="Talk to sales")
    labelled(page, "Source").fill("history")
    page.get_by_role("button", name="Upload and map the columns").click()

    page.get_by_label("Partner id goes to").select_option("external_id")
    page.get_by_label("Employees goes to").select_option("field:company_size")
    page.get_by_label("Blank values of Country").fill("Select, n/a")
    box = page.get_by_role("checkbox", name="Do not hand open leads to reps")
    expect(box).not_to_be_checked()
    box.check()
    page.get_by_role("button", name="Save the mapping and preview").click()

    expect(page.get_by_role("checkbox", name="Do not hand open leads to reps")).to_be_checked()
    expect(page.get_by_text("Open leads are not handed to reps:")).to_be_visible()
    snap("import-no-route-mapping")
    page.get_by_role("button", name=re.compile("Start the import of 9 rows")).click()

    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#import-no-route")).to_be_visible()
    page.reload()  # the stages are read when the page is drawn
    stages = page.locator("#import-stages")
    expect(stages).to_contain_text("Recycled (nurture)")
    snap("import-no-route-done")
    assert not Lead.objects.exclude(owner=None).exists()

    stages.get_by_role("link", name="Recycled (nurture)").click()
    page.get_by_role("link", name="Ana", exact=True).click()
    expect(page.get_by_text("told not to hand open leads to reps")).to_be_visible()
    snap("import-no-route-lead")
