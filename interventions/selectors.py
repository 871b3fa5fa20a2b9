"""Reads for the interventions app."""

from django.db.models import Count, QuerySet

from interventions.models import Stimulus, StimulusSet


def stimuli_eligible(*, stimulus_sets: QuerySet[StimulusSet]) -> QuerySet[Stimulus]:
    """Stimuli that may be shown: their manipulation check passed."""
    return Stimulus.objects.filter(
        stimulus_set__in=stimulus_sets, check_status=Stimulus.CheckStatus.PASSED
    )


def stimulus_set_check_counts(*, stimulus_set: StimulusSet) -> dict[str, int]:
    """Pass count and rejection count per reason, for the admin."""
    counts: dict[str, int] = {}
    rows = stimulus_set.stimuli.values("check_status", "check_reason").annotate(n=Count("id"))
    for row in rows:
        if row["check_status"] == Stimulus.CheckStatus.PASSED:
            key = "passed"
        else:
            # Reasons carry the measured value; group on the part before the number.
            key = "rejected: " + row["check_reason"].split(" moved ")[0].split(" changed ")[0]
        counts[key] = counts.get(key, 0) + row["n"]
    return counts


def stimulus_set_cell_counts(*, stimulus_set: StimulusSet) -> dict[str, dict[str, int]]:
    """Per cell of the design: stimuli made and how many passed, for the admin."""
    counts: dict[str, dict[str, int]] = {}
    rows = stimulus_set.stimuli.values("cell", "check_status").annotate(n=Count("id"))
    for row in rows:
        cell = counts.setdefault(row["cell"], {"total": 0, "passed": 0})
        cell["total"] += row["n"]
        if row["check_status"] == Stimulus.CheckStatus.PASSED:
            cell["passed"] += row["n"]
    return dict(sorted(counts.items(), key=lambda item: (item[0].count("+"), item[0])))
