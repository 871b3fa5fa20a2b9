"""The audit's figure: per intervention, the model's preference above the people's."""

from matplotlib.figure import Figure

from analysis.plots import Interval, forest_figure
from audit.selectors import ModelAudit


def audit_figure(audit: ModelAudit) -> Figure:
    rows = []
    for row in audit.rows:
        r = row.result
        name = r.intervention.name
        rows.append(Interval(f"{name}: model", r.point, r.ci_low, r.ci_high))
        if r.human_point is not None:
            rows.append(Interval(f"{name}: people", r.human_point, r.human_ci_low, r.human_ci_high))
    fig = forest_figure(rows=rows)
    fig.axes[0].set_title(
        f"{audit.reward_model.name}: preference for the treated answer, model and people",
        loc="left",
    )
    return fig
