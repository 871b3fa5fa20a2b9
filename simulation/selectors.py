"""Reads of the simulation app: the planted truth beside the live estimate."""

from dataclasses import dataclass

from analysis.models import Estimate
from analysis.selectors import estimates_latest
from collection.models import Study
from simulation.models import PlantedEffect, SimulationRun


@dataclass(frozen=True)
class TruthRow:
    intervention: str
    planted: float
    pairs: int
    estimate: float | None  # None: no estimate yet
    ci_low: float | None
    ci_high: float | None
    covered: bool | None  # the interval holds the planted effect; None without one


def simulation_latest(*, study: Study) -> SimulationRun | None:
    return SimulationRun.objects.filter(study=study).order_by("-pk").first()


def planted_effects(study: Study) -> list[TruthRow]:
    """The newest simulation run's planted effect of each intervention beside the study's
    latest whole-sample estimate of it (empty when the study was never simulated)."""
    run = simulation_latest(study=study)
    if run is None:
        return []
    estimates = {
        e.intervention_id: e
        for e in estimates_latest(study=study)
        if e.estimand == Estimate.Estimand.AMCE
    }
    rows = []
    planted = PlantedEffect.objects.filter(run=run).select_related("intervention")
    for p in planted.order_by("intervention__name"):
        e = estimates.get(p.intervention_id)
        low, high = (e.ci_low, e.ci_high) if e else (None, None)
        covered = None if low is None or high is None else low <= p.effect <= high
        rows.append(
            TruthRow(
                p.intervention.name, p.effect, p.pairs, e.point if e else None, low, high, covered
            )  # fmt: skip
        )
    return rows
