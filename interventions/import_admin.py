"""The admin's import pages (prompts, pairs): upload, all or nothing or the valid rows
plus a report, and the report as CSV. The model admins say what to import
(``run_import``); ``ImportModelAdmin`` does the rest the same way for both."""

from collections.abc import Iterable
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse

from interventions.import_files import file_lines
from interventions.import_rows import (
    MAX_ERRORS_REPORTED,
    ImportFailed,
    Line,
    RowError,
    report_csv,
)

SKIP_LABEL = "Import the valid rows and report the rest"
SKIP_HELP = (
    "Unticked, the import is all or nothing: one invalid row imports nothing. Ticked, the "
    "valid rows are imported and every rejected row is listed with its line and reason "
    "(and can be downloaded as CSV)."
)
ROWS_SHOWN = 200  # on the page; the CSV has them all


@dataclass(frozen=True)
class ImportOutcome:
    message: str
    invalid_rows: tuple[RowError, ...]
    url: str  # where the imported rows are listed


def _too_big(form: forms.Form, upload) -> bool:
    if upload.size <= settings.IMPORT_MAX_BYTES:
        return False
    form.add_error(
        "file",
        f"the file is {upload.size:,} bytes, over the {settings.IMPORT_MAX_BYTES:,} byte limit; "
        "split it or use the management command",
    )
    return True


class ImportModelAdmin(admin.ModelAdmin):
    """A model admin with an import page at import/ (URL name ``import_url_name``) and
    its report at import/report.csv."""

    import_url_name: str
    import_form: type[forms.Form]
    import_template: str
    import_title: str

    def run_import(
        self, data: dict, lines: Iterable[Line], file_name: str, owner_id: int | None
    ) -> ImportOutcome:
        raise NotImplementedError

    def _report_key(self) -> str:
        return f"import_report:{self.model._meta.label_lower}"

    def get_urls(self) -> list[URLPattern]:
        view, name = self.admin_site.admin_view, self.import_url_name
        return [
            path("import/", view(self.import_view), name=name),
            path("import/report.csv", view(self.report_view), name=f"{name}_report"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form = self.import_form(request.POST or None, request.FILES or None)
        rejected: tuple[RowError, ...] = ()
        imported, imported_url = False, ""
        if (
            request.method == "POST"
            and form.is_valid()
            and not _too_big(form, form.cleaned_data["file"])
        ):
            upload = form.cleaned_data["file"]
            lines = file_lines(upload, name=upload.name, max_bytes=settings.IMPORT_MAX_BYTES)
            try:
                outcome = self.run_import(form.cleaned_data, lines, upload.name, request.user.pk)
            except ImportFailed as exc:
                self._show_errors(form, exc)
                rejected = tuple(exc.row_errors)
            else:
                self.message_user(request, outcome.message)
                if not outcome.invalid_rows:
                    return redirect(outcome.url)
                rejected, imported, imported_url = outcome.invalid_rows, True, outcome.url
                form = self.import_form()  # the next file starts from a blank form
            request.session[self._report_key()] = report_csv(rejected)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": self.import_title,
            "imported": imported,
            "imported_url": imported_url,
            "rejected": rejected[:ROWS_SHOWN],
            "rejected_count": len(rejected),
            "rejected_hidden": max(len(rejected) - ROWS_SHOWN, 0),
            "report_url": reverse(f"admin:{self.import_url_name}_report"),
        }
        return render(request, self.import_template, context)

    @staticmethod
    def _show_errors(form: forms.Form, exc: ImportFailed) -> None:
        for error in exc.errors[:MAX_ERRORS_REPORTED]:
            form.add_error("file", error)
        if (more := len(exc.errors) - MAX_ERRORS_REPORTED) > 0:
            form.add_error("file", f"and {more:,} more problems (all of them are in the report)")
        if exc.skippable:
            form.add_error(
                "skip_invalid",
                f"{exc.valid_rows:,} rows are valid: tick “{SKIP_LABEL}” and import again to "
                f"import them and get a report of the {len(exc.row_errors):,} rejected rows",
            )

    def report_view(self, request: HttpRequest) -> HttpResponse:
        """The rejected rows of this researcher's last import on this page, as CSV."""
        if not self.has_add_permission(request):
            return redirect("admin:index")
        report = request.session.get(self._report_key())
        if report is None:
            raise Http404("no import report in this session; import a file first")
        response = HttpResponse(report, content_type="text/csv; charset=utf-8")
        name = f"{self.model._meta.model_name}-import-report.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
