"""Imported (observational) pairs of a study, read as an observational study of an
attribute, adjusted for annotator and prompt covariates, beside the randomised estimate.

In an imported pair nobody chose the attribute: the longer answer may also be the more
complete one, and some kinds of prompt come with longer answers. For each attribute the
study randomises (length, markdown, hedging), each label on an imported pair is a unit:
treated (t = 1) when one answer has noticeably more of the attribute (the intervention's
own check threshold on its check measure), y = 1 when that answer was chosen; otherwise
a control unit (t = 0) whose reference answer is a fixed coin flip per pair, so its y is
what choosing "an answer" looks like without the attribute. The average effect
E[y(1)] - E[y(0)] is estimated naively, by IPW and by AIPW on the annotators' choice
answers, the prompt's category and its log length, with overlap diagnostics and the
E-value (analysis.estimators.observational). The randomised effect of the same
attribute, from the study's generated pairs, is what the adjusted estimate should match
if the covariates caught every confounder; the E-value says how strong a missed one must
be to explain the adjusted estimate away.
"""

import math
import zlib
from dataclasses import dataclass, replace

import numpy as np

from analysis.estimators.effects import Effect
from analysis.estimators.observational import (
    ObservationalEffect,
    aipw_effect,
    ipw_effect,
    naive_effect,
)
from analysis.models import Estimate
from analysis.selectors import covariate_answers, estimates_latest, study_interventions
from collection.models import Label, Study
from interventions.measures import noticeably_more
from interventions.models import Stimulus

MIN_UNITS = 40  # below this, or with fewer than 10 of either kind, nothing is shown


@dataclass(frozen=True)
class AdjustedRow:
    intervention: str  # the randomised intervention whose attribute is read
    attribute: str  # e.g. length
    measure: str  # e.g. words
    units: int
    treated: int
    randomised: Estimate | None
    naive: Effect | None = None
    ipw: ObservationalEffect | None = None
    aipw: ObservationalEffect | None = None
    note: str = ""


def _one_hot(values: list[str]) -> np.ndarray:
    levels = sorted(set(values))[1:]  # the first level is the reference
    return np.array([[float(v == level) for level in levels] for v in values]).reshape(
        len(values), len(levels)
    )


def _labels(study: Study) -> list[tuple]:
    return list(
        Label.objects.filter(
            study_id=study.pk,
            superseded_by__isnull=True,
            assignment__stimulus__provenance=Stimulus.Provenance.OBSERVATIONAL,
            assignment__stimulus__is_attention_check=False,
            outcome__isnull=False,
        ).values_list(
            "assignment__annotator_id",
            "assignment__stimulus_id",
            "outcome",
            "assignment__stimulus__measures_control",
            "assignment__stimulus__measures_treated",
            "assignment__stimulus__prompt__category",
            "assignment__stimulus__prompt__text",
        )
    )


def _covariates(study: Study, rows: list[tuple]) -> np.ndarray:
    answers = covariate_answers(study=study)
    questions = study.covariate_schema.questions if study.covariate_schema else []
    columns = []
    for q in questions:
        if q.get("type") == "choice":
            values = [str(answers.get(r[0], {}).get(q["key"], "(no answer)")) for r in rows]
            columns.append(_one_hot(values))
    columns.append(_one_hot([r[5] or "(none)" for r in rows]))
    columns.append(np.array([[math.log1p(len(r[6].split()))] for r in rows]))
    x = np.column_stack(columns)
    # A column that never varies is no covariate (and would make the model singular).
    return x[:, np.ptp(x, axis=0) > 0]


def adjusted_rows(*, study: Study) -> list[AdjustedRow]:
    """One row per randomised intervention of the study, for its attribute read off the
    imported pairs; empty when the study has no labels on imported pairs."""
    rows = _labels(study)
    if not rows:
        return []
    x = _covariates(study, rows)
    groups = np.array([r[0] for r in rows])
    randomised = {
        e.intervention_id: e
        for e in estimates_latest(study=study)
        if e.estimand == Estimate.Estimand.AMCE
    }
    out = []
    seen: set[str] = set()
    for intervention in study_interventions(study=study):
        measure = intervention.check_measure
        if measure in seen:
            continue  # e.g. length-longer and length-shorter read the same attribute
        seen.add(measure)
        t = np.zeros(len(rows))
        y = np.zeros(len(rows))
        for i, (_, stimulus, outcome, control, treated, _, _) in enumerate(rows):
            more = noticeably_more(
                float(treated.get(measure, 0)),
                float(control.get(measure, 0)),
                intervention.check_threshold,
            )
            if more:
                t[i], y[i] = 1.0, outcome if more > 0 else 1.0 - outcome
            else:
                # The reference answer of a control unit: a fixed coin flip per pair.
                treated_is_reference = zlib.crc32(str(stimulus).encode()) % 2 == 0
                y[i] = outcome if treated_is_reference else 1.0 - outcome
        n_treated = int(t.sum())
        row = AdjustedRow(
            intervention=intervention.name,
            attribute=intervention.attribute,
            measure=measure,
            units=len(rows),
            treated=n_treated,
            randomised=randomised.get(intervention.pk),
        )
        if len(rows) < MIN_UNITS or min(n_treated, len(rows) - n_treated) < 10:
            needed = f"need {MIN_UNITS} labels, 10 of each"
            note = f"too few imported labels with and without a difference in {measure} ({needed})"
            out.append(replace(row, note=note))
            continue
        try:
            ipw = ipw_effect(outcome=y, treatment=t, covariates=x, groups=groups)
            aipw = aipw_effect(outcome=y, treatment=t, covariates=x, groups=groups)
        except (ValueError, np.linalg.LinAlgError) as error:
            out.append(replace(row, note=str(error)))
            continue
        out.append(replace(row, naive=naive_effect(outcome=y, treatment=t), ipw=ipw, aipw=aipw))
    return out
