"""Import a CSV file with a mapping file, the way the portal's import does, for scripts."""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from leads.capture.imports.models import LeadImport
from leads.capture.imports.reading import decode_upload, join_rows, read_csv
from leads.capture.imports.services import import_create, import_map, import_run, report_rows
from leads.capture.models import Form
from leads.capture.services import form_create, form_publish
from portal.errors import DomainError
from portal.spreadsheets import SafeWriter


class Command(BaseCommand):
    help = (
        "Import leads (and their history) from a CSV file with a JSON mapping: see "
        "leads/capture/mappings/olist.json and the README's 'Importing leads'."
    )

    def add_arguments(self, parser):
        parser.add_argument("csv", type=Path)
        parser.add_argument("--mapping", type=Path, required=True)
        parser.add_argument(
            "--join",
            action="append",
            default=[],
            metavar="FILE:COLUMN",
            help="Add the columns of FILE's row with the same COLUMN value (left join).",
        )
        parser.add_argument("--user", help="Who runs the import (recorded on every event).")
        parser.add_argument("--report", type=Path, help="Where to write the skipped rows.")
        parser.add_argument(
            "--no-route",
            action="store_true",
            help="Do not hand open leads to reps: score them and keep the qualified ones in "
            "nurture (for history; a lead that posts a form again goes to sales).",
        )

    def handle(self, *args, **options):
        mapping = self._mapping(options["mapping"])
        content = self._read(options["csv"])
        try:
            header, rows = read_csv(content)
            for spec in options["join"]:
                path, _, column = spec.rpartition(":")
                if not path or column not in header:
                    raise CommandError(f"--join {spec}: give FILE:COLUMN, a column of the file.")
                other_header, other = read_csv(self._read(Path(path)))
                header += [name for name in other_header if name not in header]
                rows = join_rows(rows, other, on=column)
            by = self._user(options["user"])
            form = self._form(mapping.get("form") or {}, by)
            with transaction.atomic():
                lead_import = import_create(
                    form=form,
                    source=mapping.get("source") or form.slug,
                    file_name=options["csv"].name,
                    content=content,
                    by=by,
                )
                lead_import.columns = header
                lead_import.total_rows = len(rows)
                lead_import.save(update_fields=["columns", "total_rows"])
                import_map(
                    lead_import=lead_import,
                    mapping={"columns": mapping["columns"]},
                    time_zone=mapping.get("timezone", "UTC"),
                    route_open_leads=not options["no_route"],
                )
                LeadImport.objects.filter(pk=lead_import.pk).update(status=LeadImport.Status.QUEUED)
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"Import {lead_import.pk}: {len(rows)} rows into the form {form}.")
        if options["no_route"]:
            self.stdout.write("  Open leads are scored but not handed to reps (--no-route).")
        shown = [0]

        def progress(done: LeadImport) -> None:
            if done.percent >= shown[0] + 10 or done.processed_rows == done.total_rows:
                shown[0] = done.percent
                self.stdout.write(f"  {done.processed_rows}/{done.total_rows} ({done.percent} %)")

        lead_import = import_run(lead_import_id=lead_import.pk, rows=rows, progress=progress)
        report = options["report"] or Path(f"import-{lead_import.pk}-skipped.csv")
        with report.open("w", newline="", encoding="utf-8") as out:
            SafeWriter(out).writerows(report_rows(lead_import))
        self.stdout.write(
            f"Done: {lead_import.created_leads} new leads, {lead_import.updated_leads} updated, "
            f"{lead_import.unchanged_rows} already imported, {lead_import.skipped_rows} skipped."
        )
        self.stdout.write(f"Report of skipped rows: {report.resolve()}")

    def _read(self, path: Path) -> str:
        try:
            return decode_upload(path.read_bytes())
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from error
        except DomainError as error:
            raise CommandError(f"{path}: {error.message}") from error

    def _mapping(self, path: Path) -> dict:
        try:
            mapping = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read the mapping {path}: {error}") from error
        if not isinstance(mapping.get("columns"), dict):
            raise CommandError(f'The mapping {path} has no "columns" object.')
        return mapping

    def _user(self, username: str | None):
        if not username:
            return None
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user {username}.") from None

    def _form(self, spec: dict, by) -> Form:
        slug = spec.get("slug")
        if not slug:
            raise CommandError('The mapping names no form: add "form": {"slug": ...}.')
        form = Form.objects.filter(slug=slug).select_related("current_version").first()
        if form is None:
            form = form_create(by=by, name=spec.get("name") or slug, slug=slug)
            form_publish(form=form, by=by)
            form.refresh_from_db()
            self.stdout.write(f"Created and published the form {form} (only an e-mail field).")
        return form
