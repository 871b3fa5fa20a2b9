"""The audit page of a study (its readers see it, its editors run audits), the scoring
sheet, and the audit figure."""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render

from analysis.figures import FORMATS
from analysis.plots import figure_bytes
from audit.access import reward_models_usable
from audit.figures import audit_figure
from audit.forms import AuditForm
from audit.models import RewardModel
from audit.selectors import audits_latest, scoring_sheet, study_pairs
from audit.services import AuditError, audit_run, scores_import
from audit.tasks import audit_run_task
from collection.access import study_editable, study_for_reader
from collection.models import Study


def _readable(request: HttpRequest, slug: str) -> Study:
    study = study_for_reader(user=request.user, slug=slug)
    if study is None:
        raise Http404("no study with this link among the studies you can read")
    return study


@staff_member_required
def audit_page(request: HttpRequest, slug: str) -> HttpResponse:
    study = _readable(request, slug)
    editable = study_editable(user=request.user, study_id=study.pk)
    usable = reward_models_usable(user=request.user)
    form = AuditForm(request.POST or None, request.FILES or None, models=usable)
    if request.method == "POST":
        if not editable:
            return HttpResponse("You may read this study, not run audits on it.", status=403)
        if form.is_valid():
            model: RewardModel = form.cleaned_data["reward_model"]
            try:
                if form.cleaned_data.get("scores"):
                    stored = scores_import(
                        reward_model=model, study=study, lines=form.cleaned_data["scores"]
                    )
                    messages.info(request, f"{stored} new scores stored.")
                if model.source == RewardModel.Source.HTTP:
                    audit_run_task.delay(model.pk, study.pk)
                    messages.info(
                        request, f"{model.name} is scoring the pairs; reload this page in a minute."
                    )
                else:
                    rows = audit_run(reward_model=model, study=study)
                    plural = "" if len(rows) == 1 else "s"
                    messages.success(
                        request, f"{model.name} audited on {len(rows)} intervention{plural}."
                    )
                return redirect("audit:page", slug=study.slug)
            except AuditError as error:
                form.add_error(None, str(error))
    context = {
        "study": study,
        "audits": audits_latest(study=study),
        "pairs": study_pairs(study=study).count(),
        "form": form if editable else None,
        "has_models": usable.exists(),
    }
    return render(request, "audit/audit_page.html", context, status=400 if form.errors else 200)


@staff_member_required
def audit_sheet(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    study = _readable(request, slug)
    response = StreamingHttpResponse(scoring_sheet(study=study), content_type="application/jsonl")
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-scoring-sheet.jsonl"'
    return response


@staff_member_required
def audit_figure_view(request: HttpRequest, slug: str, model: int, fmt: str) -> HttpResponse:
    study = _readable(request, slug)
    if fmt not in FORMATS:
        raise Http404(f"no figure format {fmt}; use svg or png")
    audit = next((a for a in audits_latest(study=study) if a.reward_model.pk == model), None)
    if audit is None:
        raise Http404("this reward model has no audit on this study")
    response = HttpResponse(figure_bytes(audit_figure(audit), fmt), content_type=FORMATS[fmt])
    if "download" in request.GET:
        name = f"{study.slug}-audit-{model}.{fmt}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
