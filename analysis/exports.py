"""The export's data card needs the effect estimates, which belong to analysis; the
collection app writes the export and may not import analysis, so the worker's job runs
here and hands the estimates section down as markdown."""

from analysis.selectors import estimates_latest
from collection.exports.services import export_build
from collection.models import Export, Study


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:+.3f}"


def estimates_markdown(*, study: Study) -> str | None:
    """The latest whole-sample estimates as a markdown table, or None if none yet."""
    rows = estimates_latest(study=study)
    if not rows:
        return None
    lines = [
        "Latest whole-sample estimates of the live analysis (effect of the attribute on "
        "the probability its response is preferred; 95% intervals):",
        "",
        "| intervention | estimand | estimate | SE | 95% CI | p | labels | annotators |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for e in rows:
        p = "–" if e.p_value is None else f"{e.p_value:.3g}"
        lines.append(
            f"| {e.intervention.name} | {e.get_estimand_display()} | {_num(e.point)} | "
            f"{_num(e.se).lstrip('+')} | [{_num(e.ci_low)}, {_num(e.ci_high)}] | {p} | "
            f"{e.n_labels} | {e.n_annotators} |"
        )
    return "\n".join(lines)


def export_build_with_estimates(*, export_id: int) -> Export:
    study = Study.objects.get(exports__pk=export_id)
    return export_build(export_id=export_id, estimates_markdown=estimates_markdown(study=study))
