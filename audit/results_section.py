"""The reward-model audits as a section of the study's results page."""

from django.http import HttpRequest
from django.template.loader import render_to_string

from audit.selectors import audits_latest
from collection.models import Study


def audit_section(request: HttpRequest, study: Study) -> str:
    context = {"study": study, "audits": audits_latest(study=study), "compact": True}
    return render_to_string("audit/audit_section.html", context, request=request)
