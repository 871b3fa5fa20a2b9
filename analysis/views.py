"""The results page of a study, for its owners and collaborators, and its estimates as CSV."""

import csv

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from analysis.models import Estimate
from analysis.plots import Point, convergence_svg
from analysis.selectors import estimates_history, estimates_latest, refresh_runs
from collection.access import study_for_reader

# The CSV's columns: (header, how to read it off an Estimate), in the order shown.
CSV_COLUMNS = (
    ("intervention", lambda e: e.intervention.name),
    ("estimand", lambda e: e.estimand),
    ("weighting", lambda e: e.weighting),
    ("subgroup", lambda e: e.subgroup),
    ("estimate", lambda e: e.point),
    ("se", lambda e: e.se),
    ("ci_low", lambda e: e.ci_low),
    ("ci_high", lambda e: e.ci_high),
    ("df", lambda e: e.df),
    ("p", lambda e: e.p_value),
    ("p_holm", lambda e: e.p_holm),
    ("p_bh", lambda e: e.p_bh),
    ("cs_low", lambda e: e.cs_low),
    ("cs_high", lambda e: e.cs_high),
    ("p_always_valid", lambda e: e.p_always_valid),
    ("annotators", lambda e: e.n_annotators),
    ("labels", lambda e: e.n_labels),
    ("label_watermark", lambda e: e.watermark),
    ("estimator", lambda e: e.estimator),
    ("note", lambda e: e.note),
    ("computed_at", lambda e: e.computed_at.isoformat()),
)


@staff_member_required
def study_estimates_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """The latest estimates as CSV, one row per table row of the results page (empty cells
    where the page shows a dash)."""
    study = study_for_reader(user=request.user, slug=slug)
    if study is None:
        raise Http404("no study with this link among the studies you can read")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-estimates.csv"'
    writer = csv.writer(response)
    writer.writerow([name for name, _ in CSV_COLUMNS])
    for estimate in estimates_latest(study=study, subgroups=True):
        values = [read(estimate) for _, read in CSV_COLUMNS]
        writer.writerow(["" if v is None else v for v in values])
    return response


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
