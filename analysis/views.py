"""The results page of a study, for its owners and collaborators, and its estimates as CSV."""

import csv
from dataclasses import dataclass

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from analysis.adjusted import adjusted_rows
from analysis.extras import heterogeneity_rows, interaction_rows
from analysis.figures import FORMATS, NAMES, figure_bytes, figures_shown
from analysis.models import Estimate
from analysis.results_sections import results_sections
from analysis.selectors import estimates_latest, refresh_runs, results_watermark
from analysis.sentences import RowFigures, row_sentence
from collection.access import study_for_reader
from collection.models import Study

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
    study = _readable(request, slug)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-estimates.csv"'
    writer = csv.writer(response)
    writer.writerow([name for name, _ in CSV_COLUMNS])
    for estimate in estimates_latest(study=study, subgroups=True):
        values = [read(estimate) for _, read in CSV_COLUMNS]
        writer.writerow(["" if v is None else v for v in values])
    return response


def _readable(request: HttpRequest, slug: str) -> Study:
    study = study_for_reader(user=request.user, slug=slug)
    if study is None:
        raise Http404("no study with this link among the studies you can read")
    return study


@dataclass(frozen=True)
class Row:
    """An estimate row as the page shows it: the snapshot and its sentence."""

    e: Estimate
    sentence: str


def _rows(estimates: list[Estimate]) -> list[Row]:
    return [
        Row(
            e,
            row_sentence(
                RowFigures(
                    intervention=e.intervention.name,
                    estimand=e.estimand,
                    weighting=e.weighting,
                    subgroup=e.subgroup,
                    point=e.point,
                    ci_low=e.ci_low,
                    ci_high=e.ci_high,
                    note=e.note,
                )
            ),
        )
        for e in estimates
    ]


@staff_member_required
def study_results(request: HttpRequest, slug: str) -> HttpResponse:
    study = _readable(request, slug)
    watermark = results_watermark(study=study)
    latest = estimates_latest(study=study, subgroups=True)
    effects = [e for e in latest if e.estimand == Estimate.Estimand.AMCE]
    context = {
        "study": study,
        "watermark": watermark,
        "effects": _rows([e for e in effects if e.subgroup == "all"]),
        "subgroups": _rows([e for e in effects if e.subgroup != "all"]),
        "positions": _rows([e for e in latest if e.estimand == Estimate.Estimand.POSITION_BIAS]),
        "figures": figures_shown(study=study, watermark=watermark),
        "heterogeneity": heterogeneity_rows(study=study),
        "interactions": interaction_rows(study=study),
        "adjusted": adjusted_rows(study=study),
        "runs": refresh_runs(study=study, limit=20),
        "sections": results_sections(request, study),
    }
    return render(request, "analysis/results.html", context)


@staff_member_required
def study_results_status(request: HttpRequest, slug: str) -> JsonResponse:
    """What the open page polls: a new watermark means new estimates to swap in."""
    study = _readable(request, slug)
    return JsonResponse({"watermark": results_watermark(study=study)})


@staff_member_required
def study_figure(request: HttpRequest, slug: str, name: str, fmt: str) -> HttpResponse:
    study = _readable(request, slug)
    if name not in NAMES or fmt not in FORMATS:
        raise Http404(f"no figure {name}.{fmt}; the figures are {', '.join(NAMES)} as svg or png")
    data = figure_bytes(study=study, name=name, fmt=fmt)
    if not data:
        raise Http404(f"the {name} figure has nothing to show yet")
    response = HttpResponse(data, content_type=FORMATS[fmt])
    if "download" in request.GET:
        response["Content-Disposition"] = f'attachment; filename="{study.slug}-{name}.{fmt}"'
    return response
