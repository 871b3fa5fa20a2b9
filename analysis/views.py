"""The results page of a study, for its owners and collaborators."""

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from analysis.models import Estimate
from analysis.plots import Point, convergence_svg
from analysis.selectors import estimates_history, estimates_latest, refresh_runs
from collection.access import study_for_reader


@staff_member_required
def study_results(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_for_reader(user=request.user, slug=slug)
    if study is None:
        raise Http404("no study with this link among the studies you can read")
    series: dict[str, list[Point]] = {}
    for e in estimates_history(study=study):
        series.setdefault(e.intervention.name, []).append(
            Point(e.n_labels, e.point, e.ci_low, e.ci_high, e.cs_low, e.cs_high)
        )
    latest = estimates_latest(study=study, subgroups=True)
    effects = [e for e in latest if e.estimand == Estimate.Estimand.AMCE]
    context = {
        "study": study,
        "effects": [e for e in effects if e.subgroup == "all"],
        "subgroups": [e for e in effects if e.subgroup != "all"],
        "positions": [e for e in latest if e.estimand == Estimate.Estimand.POSITION_BIAS],
        # Built from numbers and escaped names only (analysis.plots), so safe to inline.
        "plot": mark_safe(convergence_svg(series=series)),  # noqa: S308
        "runs": refresh_runs(study=study, limit=20),
    }
    return render(request, "analysis/results.html", context)
