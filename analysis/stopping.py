"""Stopping rules: pause a study and tell its owners once the evidence is in.

``Study.stopping_rule`` is a JSON object; every key is optional and an empty object means
"never stop automatically":

=====================  ======================================================  =========
key                    meaning                                                 default
=====================  ======================================================  =========
``cs_excludes_zero``   stop when, for every intervention of the study, the     false
                       anytime-valid confidence sequence of the attribute
                       effect excludes zero
``cs_width_below``     stop when every intervention's confidence sequence is   none
                       narrower than this (effect scale, e.g. 0.05)
``label_budget``       stop once the study has this many labels (corrections   none
                       not counted, attention checks counted)
``alpha``              1 - level of the confidence sequences (fixed at the      0.05
                       study's first refresh)
``planned_annotators`` where the sequences are tuned to be tightest (rho;      see below
                       fixed at the study's first refresh)
=====================  ======================================================  =========

``planned_annotators`` defaults to label_target / labels_per_annotator when the study
has a label target, else 100. Any one satisfied condition pauses the study (through
``collection.services.study_pause``) and emails the owners once. The sequences are the
asymptotic confidence sequences of each whole-sample row, on the study's estimand
(``analysis.estimators.confseq.asymptotic_cs``), shown from 20 annotators and from the
study's ``min_annotators``; ``alpha`` and ``planned_annotators`` are read once, at the
study's first refresh (``analysis.snapshots.monitoring_plan``). They are anytime-valid,
so checking after every refresh does not inflate the error rate.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail

from analysis.models import Estimate, RefreshState
from collection.models import Study, Webhook
from collection.services import study_pause
from collection.services.webhooks import webhooks_emit

logger = logging.getLogger(__name__)

KEYS = {"cs_excludes_zero", "cs_width_below", "label_budget", "alpha", "planned_annotators"}


@dataclass(frozen=True)
class StoppingRule:
    cs_excludes_zero: bool = False
    cs_width_below: float | None = None
    label_budget: int | None = None
    alpha: float = 0.05
    planned_annotators: int = 100

    @property
    def active(self) -> bool:
        return self.cs_excludes_zero or self.cs_width_below is not None or bool(self.label_budget)


def stopping_rule_parse(*, study: Study) -> StoppingRule:
    """The study's rule, or ValueError saying which key to fix."""
    rule = study.stopping_rule or {}
    if not isinstance(rule, dict):
        raise ValueError(f"stopping_rule must be a JSON object with keys {sorted(KEYS)}")
    unknown = set(rule) - KEYS
    if unknown:
        raise ValueError(f"stopping_rule: unknown key(s) {sorted(unknown)}; use {sorted(KEYS)}")
    planned = 100
    if study.label_target:
        planned = max(1, study.label_target // max(1, study.labels_per_annotator))
    parsed = StoppingRule(
        cs_excludes_zero=bool(rule.get("cs_excludes_zero", False)),
        cs_width_below=rule.get("cs_width_below"),
        label_budget=rule.get("label_budget"),
        alpha=rule.get("alpha", 0.05),
        planned_annotators=rule.get("planned_annotators", planned),
    )
    if not (isinstance(parsed.alpha, int | float) and 0 < parsed.alpha < 1):
        raise ValueError(f"stopping_rule: alpha must be in (0, 1), got {parsed.alpha!r}")
    if not (isinstance(parsed.planned_annotators, int) and parsed.planned_annotators >= 1):
        raise ValueError("stopping_rule: planned_annotators must be a whole number >= 1")
    width = parsed.cs_width_below
    if width is not None and not (isinstance(width, int | float) and width > 0):
        raise ValueError(f"stopping_rule: cs_width_below must be positive, got {width!r}")
    budget = parsed.label_budget
    if budget is not None and not (isinstance(budget, int) and budget >= 1):
        raise ValueError(f"stopping_rule: label_budget must be a whole number >= 1, got {budget!r}")
    return parsed


def _reasons(rule: StoppingRule, effects: list[Estimate], complete: bool, labels: int) -> list[str]:
    reasons = []
    if rule.label_budget and labels >= rule.label_budget:
        reasons.append(f"label budget reached ({labels} of {rule.label_budget})")
    bounds = [(e.cs_low, e.cs_high) for e in effects]
    cs = [(lo, hi) for lo, hi in bounds if lo is not None and hi is not None]
    bounded = complete and bool(cs) and len(cs) == len(effects)
    if rule.cs_excludes_zero and bounded and all(lo > 0 or hi < 0 for lo, hi in cs):
        reasons.append("the confidence sequence excludes zero for every intervention")
    width = rule.cs_width_below
    if width is not None and bounded and all(hi - lo < width for lo, hi in cs):
        reasons.append(f"every confidence sequence is narrower than {width}")
    return reasons


def _notify(study: Study, reasons: list[str], effects: list[Estimate]) -> None:
    recipients = [u.email for u in study.owners.all() if u.email]
    if not recipients:
        logger.warning("study %s paused by its stopping rule; no owner has an email", study.pk)
        return
    lines = [
        f"{e.intervention.name}: effect {e.point:+.3f}, confidence sequence "
        f"[{e.cs_low:+.3f}, {e.cs_high:+.3f}], {e.n_annotators} annotators, {e.n_labels} labels"
        for e in effects
        if e.cs_low is not None
    ]
    body = (
        f"The study '{study.title}' was paused by its stopping rule: {'; '.join(reasons)}.\n\n"
        + "\n".join(lines)
        + f"\n\nResults: {settings.SITE_URL}/results/{study.slug}/\n"
        "Labels for pairs already served are still accepted. Relaunch it from the admin "
        "to collect more."
    )
    send_mail(f"Counterpoint: '{study.title}' paused by its stopping rule", body, None, recipients)


def study_stopping_apply(*, study: Study, estimates: list[Estimate]) -> list[str]:
    """Check the rule against a fresh snapshot; pause and notify if it is met. Returns
    the reasons (empty if the study keeps running)."""
    if not estimates or study.status != Study.Status.RUNNING:
        return []
    try:
        rule = stopping_rule_parse(study=study)
    except ValueError:
        logger.exception("study %s: stopping rule ignored", study.pk)
        return []
    if not rule.active:
        return []
    effects = [e for e in estimates if e.estimand == Estimate.Estimand.AMCE and e.subgroup == "all"]
    interventions = set(study.stimulus_sets.values_list("interventions", flat=True)) - {None}
    complete = {e.intervention_id for e in effects} >= interventions
    labels = RefreshState.objects.get(study=study).labels_total
    reasons = _reasons(rule, effects, complete, labels)
    if reasons and study_pause(study_id=study.pk, reason="; ".join(reasons)):
        RefreshState.objects.filter(study=study).update(stopped_reason="; ".join(reasons))
        _notify(study, reasons, effects)
        webhooks_emit(
            study_id=study.pk, event=Webhook.Event.STUDY_COMPLETED, data={"reasons": reasons}
        )
    return reasons
