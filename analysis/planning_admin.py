"""The planning page of a study in the admin (linked from the study's page)."""

from django import forms
from django.contrib.admin import AdminSite
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from analysis.planning import Pilot, pilot_icc, plan_study
from analysis.results_sections import results_sections
from collection.access import studies_readable


class PlanningForm(forms.Form):
    effect = forms.FloatField(
        min_value=0.005,
        max_value=0.5,
        initial=0.05,
        help_text="The smallest effect worth finding, on P(prefer the treated response) - "
        "1/2: 0.05 means 55% instead of 50%.",
    )
    alpha = forms.FloatField(min_value=0.001, max_value=0.2, initial=0.05)
    power = forms.FloatField(min_value=0.5, max_value=0.99, initial=0.8)
    labels_per_annotator = forms.IntegerField(min_value=1, max_value=10_000)
    icc = forms.FloatField(
        label="ICC",
        min_value=0,
        max_value=1,
        help_text="How alike one annotator's choices are (intraclass correlation). "
        "Prefilled from a pilot's labels when there is one; 0.05 otherwise.",
    )


def planning_view(site: AdminSite, request: HttpRequest, pk: int) -> HttpResponse:
    study = studies_readable(user=request.user).filter(pk=pk).first()
    if study is None:
        raise Http404("no such study")
    pilot: Pilot | None = pilot_icc(study=study)
    initial = {
        "labels_per_annotator": study.labels_per_annotator,
        "icc": round(pilot.icc, 3) if pilot else 0.05,
    }
    form = PlanningForm(request.GET if "effect" in request.GET else None, initial=initial)
    values = form.cleaned_data if form.is_bound and form.is_valid() else None
    if values is None and not form.is_bound:
        values = {name: form.fields[name].initial for name in form.fields} | initial
    plan = plan_study(study=study, **values) if values else None
    context = {
        **site.each_context(request),
        "title": f"Plan “{study.title}”",
        "study": study,
        "form": form,
        "plan": plan,
        "pilot": pilot,
        "sections": results_sections(request, study, page="planning"),
    }
    return TemplateResponse(request, "admin/analysis/planning.html", context)
