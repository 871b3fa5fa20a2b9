"""Which figures a study's results page shows, their data, and their rendered bytes.

Rendering a figure costs tens of milliseconds, so bytes are cached under the study's
results watermark (the newest estimate row): a page view or a poll between two refreshes
draws nothing. A cache outage only costs the drawing, never the page.
"""

import logging
import math
from dataclasses import dataclass

import numpy as np
from django.core.cache import cache
from matplotlib.figure import Figure

from analysis import plots
from analysis.estimators.agreement import krippendorff_alpha
from analysis.models import Estimate
from analysis.selectors import (
    enrollment_times,
    estimates_history,
    estimates_latest,
    label_records,
    results_watermark,
)
from collection.models import Study

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FigureSpec:
    name: str
    title: str
    caption: str


SPECS = (
    FigureSpec(
        "forest",
        "Effects",
        "Each intervention's effect in percentage points above chance: the square is the "
        "estimate, the thick line its 95% confidence interval, the dashed line its "
        "confidence sequence, which stays valid however often you look. An interval that "
        "crosses the dotted zero line means no clear difference.",
    ),
    FigureSpec(
        "convergence",
        "Convergence",
        "How each estimate settled as labels arrived: the line is the estimate after each "
        "refresh, the shaded band its 95% interval, the dashed lines the confidence sequence.",
    ),
    FigureSpec(
        "subgroups",
        "Subgroups",
        "The effect within each answer to each questionnaire question (interval only; "
        "subgroups below the study's minimum show the estimate alone).",
    ),
    FigureSpec(
        "position",
        "Position bias",
        "How much more often the answer shown on the left was chosen than chance, whatever "
        "its content; the design balances sides, so this does not bias the effects.",
    ),
    FigureSpec(
        "agreement",
        "Agreement",
        "Krippendorff's alpha of the choices (treated, control, tie) among annotators who "
        "labelled the same pair: 1 is full agreement, 0 what chance gives.",
    ),
    FigureSpec(
        "quality",
        "Annotator quality",
        "How many labels each annotator gave, and the share of attention checks each "
        "answered as asked.",
    ),
    FigureSpec(
        "recruitment",
        "Recruitment",
        "Annotators who consented and labels given over time, against the study's targets "
        "(the label target, and the annotators it needs at the study's labels per annotator).",
    ),
)
NAMES = tuple(s.name for s in SPECS)
FORMATS = {"svg": "image/svg+xml", "png": "image/png"}


def _interval(e: Estimate, name: str) -> plots.Interval:
    return plots.Interval(name, e.point, e.ci_low, e.ci_high, e.cs_low, e.cs_high)


def _agreement(study: Study) -> dict[str, float]:
    records = [r for r in label_records(study=study) if not r.is_check]
    alphas = {}
    names = sorted({n for r in records for n, on in r.treatment.items() if on == 1})
    for name in names:
        mine = [r for r in records if r.treatment.get(name) == 1]
        alpha = krippendorff_alpha(
            unit=np.array([r.stimulus_id for r in mine]),
            value=np.array([r.outcome for r in mine]),
            level="nominal",
        )
        if np.isfinite(alpha):
            alphas[name] = alpha
    return alphas


def figure_make(*, study: Study, name: str) -> Figure | None:
    """The named figure of the study, or None when it has nothing to show yet."""
    latest = estimates_latest(study=study, subgroups=True)
    if name == "forest":
        rows = [
            _interval(e, e.intervention.name)
            for e in latest
            if e.estimand == Estimate.Estimand.AMCE and e.subgroup == "all"
        ]
        return plots.forest_figure(rows=rows) if rows else None
    if name == "convergence":
        series: dict[str, list[plots.Point]] = {}
        for e in estimates_history(study=study):
            series.setdefault(e.intervention.name, []).append(
                plots.Point(e.n_labels, e.point, e.ci_low, e.ci_high, e.cs_low, e.cs_high)
            )
        return plots.convergence_figure(series=series) if series else None
    if name == "subgroups":
        questions: dict[str, list[plots.Interval]] = {}
        for e in latest:
            if e.estimand == Estimate.Estimand.AMCE and e.subgroup != "all":
                question, _, level = e.subgroup.partition("=")
                row = _interval(e, f"{e.intervention.name}: {level}")
                questions.setdefault(question, []).append(row)
        return plots.subgroup_figure(questions=questions) if questions else None
    if name == "position":
        rows = [
            _interval(e, e.intervention.name)
            for e in latest
            if e.estimand == Estimate.Estimand.POSITION_BIAS
        ]
        return plots.position_figure(rows=rows) if rows else None
    if name == "agreement":
        alphas = _agreement(study)
        return plots.agreement_figure(alphas=alphas) if alphas else None
    if name == "quality":
        records = label_records(study=study)
        if not records:
            return None
        given: dict[int, int] = {}
        checks: dict[int, list[bool]] = {}
        for r in records:
            given[r.annotator_id] = given.get(r.annotator_id, 0) + 1
            if r.is_check:
                checks.setdefault(r.annotator_id, []).append(bool(r.check_passed))
        return plots.quality_figure(
            labels_per_annotator=list(given.values()),
            check_shares=[sum(v) / len(v) for v in checks.values()],
        )
    if name == "recruitment":
        joined = enrollment_times(study=study)
        if not joined:
            return None
        target = study.label_target
        return plots.recruitment_figure(
            joined=joined,
            labelled=[r.created_at for r in label_records(study=study)],
            label_target=target,
            annotator_target=math.ceil(target / study.labels_per_annotator) if target else None,
        )
    raise ValueError(f"no figure named {name!r}; the figures are {', '.join(NAMES)}")


def figure_cache_key(*, study: Study, watermark: int, name: str, fmt: str) -> str:
    # The creation time too: a database rebuilt from scratch reuses ids, and a shared
    # cache must not serve another study's figure under them.
    born = int(study.created_at.timestamp() * 1e6)
    return f"results-figure:{study.pk}:{born}:{watermark}:{name}:{fmt}"


def figure_bytes(*, study: Study, name: str, fmt: str, watermark: int | None = None) -> bytes:
    """The figure as SVG or PNG bytes (b"" when it has nothing to show), cached under the
    results watermark."""
    if watermark is None:
        watermark = results_watermark(study=study)
    key = figure_cache_key(study=study, watermark=watermark, name=name, fmt=fmt)
    try:
        cached = cache.get(key)
    except Exception:  # a cache outage costs the drawing only
        log.warning("figure cache unavailable", exc_info=True)
        cached = None
    if cached is not None:
        return cached
    fig = figure_make(study=study, name=name)
    data = b"" if fig is None else plots.figure_bytes(fig, fmt)
    try:
        cache.set(key, data, timeout=24 * 3600)
    except Exception:
        log.warning("figure cache unavailable", exc_info=True)
    return data


def figures_shown(*, study: Study, watermark: int) -> list[FigureSpec]:
    """The figures that have something to show (drawn once per watermark, then cached)."""
    return [
        s for s in SPECS if figure_bytes(study=study, name=s.name, fmt="svg", watermark=watermark)
    ]
