"""The results page's figures, drawn server-side with matplotlib (Agg, no pyplot state).

Every function takes plain numbers and returns a Figure; ``figure_bytes`` writes it as SVG
(text kept as text, no timestamp, fixed ids so equal inputs give equal bytes) or PNG.
Each figure reads without colour: the 95% interval is a thick solid line, the
confidence sequence a thin dashed one, points are distinct markers, and legends sit
outside the data.
"""

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates  # noqa: E402  (after the backend is chosen)
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

INK, GREY, LIGHT = "#1b1b1b", "#6b6b6b", "#d9d9d9"
STYLE: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",
    "svg.hashsalt": "counterpoint",
    "figure.dpi": 100,
}
# Only these figures use matplotlib in this process; text properties are read from
# rcParams when an artist is made, so the style is set once here, not per call.
matplotlib.rcParams.update(STYLE)  # type: ignore[arg-type]  # keys are rc names
WIDTH = 7.5  # inches; the page shows figures at most 750 px wide
EFFECT_AXIS = "Effect: percentage points above chance (50%)"


@dataclass(frozen=True)
class Point:
    x: float  # labels covered
    point: float
    ci_low: float | None
    ci_high: float | None
    cs_low: float | None
    cs_high: float | None


@dataclass(frozen=True)
class Interval:
    """One row of a forest-type plot (effect scale, not yet in points)."""

    name: str
    point: float
    ci_low: float | None
    ci_high: float | None
    cs_low: float | None = None
    cs_high: float | None = None


def figure_bytes(fig: Figure, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "svg":
        fig.savefig(out, format="svg", metadata={"Date": None}, bbox_inches="tight")
    else:
        fig.savefig(out, format="png", dpi=150, bbox_inches="tight")
    return out.getvalue()


def _pp(v: float | None) -> float | None:
    return None if v is None else 100 * v


def _figure(height: float) -> Figure:
    return Figure(figsize=(WIDTH, height), layout="constrained")


def _zero(ax) -> None:
    ax.axvline(0, color=GREY, linestyle=":", linewidth=1, zorder=0)


def _intervals(ax, rows: list[Interval], *, with_cs: bool) -> list:
    """Draws rows top to bottom; returns the legend handles."""
    handles = {}
    for k, row in enumerate(rows):
        y = len(rows) - 1 - k
        if with_cs and row.cs_low is not None and row.cs_high is not None:
            (h,) = ax.plot(
                [_pp(row.cs_low), _pp(row.cs_high)],
                [y - 0.22] * 2,
                color=GREY,
                linestyle="--",
                linewidth=1.2,
                marker="|",
                markersize=7,
            )
            handles["Confidence sequence (valid at any look)"] = h
        if row.ci_low is not None and row.ci_high is not None:
            (h,) = ax.plot([_pp(row.ci_low), _pp(row.ci_high)], [y] * 2, color=INK, linewidth=2.6)
            handles["95% confidence interval"] = h
        (h,) = ax.plot([_pp(row.point)], [y], marker="s", color=INK, markersize=6, linestyle="none")
        handles["Estimate"] = h
    ax.set_yticks(range(len(rows)), [r.name for r in reversed(rows)])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    _zero(ax)
    order = ["Estimate", "95% confidence interval", "Confidence sequence (valid at any look)"]
    return [(handles[name], name) for name in order if name in handles]


def _legend_below(fig: Figure, handles: list) -> None:
    if handles:
        fig.legend(
            [h for h, _ in handles],
            [n for _, n in handles],
            loc="outside lower center",
            ncols=len(handles),
            frameon=False,
        )


def forest_figure(*, rows: list[Interval]) -> Figure:
    """Each intervention's effect: estimate, 95% interval and confidence sequence."""
    fig = _figure(1.3 + 0.45 * len(rows))
    ax = fig.add_subplot()
    handles = _intervals(ax, rows, with_cs=True)
    ax.set_xlabel(EFFECT_AXIS)
    ax.set_title("Effect of each intervention on preference", loc="left")
    _legend_below(fig, handles)
    return fig


def _thin(points: list[Point], most: int = 60) -> list[Point]:
    """At most ``most`` snapshots, evenly spaced, the newest kept: a refresh per label
    gives thousands, more than a panel can show and slow to draw."""
    if len(points) <= most:
        return points
    step = -(-len(points) // most)
    kept = points[::step]
    return kept if kept[-1] is points[-1] else [*kept, points[-1]]


def convergence_figure(*, series: dict[str, list[Point]]) -> Figure:
    """One panel per intervention: the estimate against labels covered, its 95% interval
    (shaded band) and its confidence sequence (dashed bounds)."""
    names = sorted(series)
    cols = 2 if len(names) > 1 else 1
    rows = (len(names) + cols - 1) // cols
    fig = _figure(0.6 + 2.2 * rows)
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
    handles: dict[str, object] = {}
    for k, ax in enumerate(axes.flat):
        if k >= len(names):
            ax.set_visible(False)
            continue
        ps = _thin(series[names[k]])
        xs = [p.x for p in ps]
        band = [p for p in ps if p.ci_low is not None and p.ci_high is not None]
        if band:
            handles["95% confidence interval"] = ax.fill_between(
                [p.x for p in band],
                [_pp(p.ci_low) for p in band],
                [_pp(p.ci_high) for p in band],
                color=LIGHT,
                edgecolor="none",
            )
        seq = [p for p in ps if p.cs_low is not None and p.cs_high is not None]
        if seq:
            for attr, marker in (("cs_low", "^"), ("cs_high", "v")):
                (h,) = ax.plot(
                    [p.x for p in seq],
                    [_pp(getattr(p, attr)) for p in seq],
                    color=GREY,
                    linestyle="--",
                    linewidth=1.1,
                    marker=marker,
                    markersize=4,
                )
            handles["Confidence sequence"] = h
        (h,) = ax.plot(
            xs, [_pp(p.point) for p in ps], color=INK, linewidth=1.6, marker="o", markersize=4
        )
        handles["Estimate"] = h
        ax.axhline(0, color=GREY, linestyle=":", linewidth=1, zorder=0)
        ax.set_title(names[k], loc="left")
        ax.set_xlabel("Labels")
        if k % cols == 0:
            ax.set_ylabel("Effect (points)")
    order = ["Estimate", "95% confidence interval", "Confidence sequence"]
    _legend_below(fig, [(handles[n], n) for n in order if n in handles])
    return fig


def subgroup_figure(*, questions: dict[str, list[Interval]]) -> Figure:
    """One panel per covariate question: the effect within each of its levels, per
    intervention (rows named "intervention: level")."""
    sizes = [len(rows) for rows in questions.values()]
    fig = _figure(0.9 + 0.4 * sum(sizes) + 0.5 * len(sizes))
    axes = fig.subplots(len(sizes), 1, squeeze=False, sharex=True, height_ratios=sizes)
    handles: list = []
    for ax, (question, rows) in zip(axes[:, 0], questions.items(), strict=True):
        handles = _intervals(ax, rows, with_cs=False) or handles
        ax.set_title(f"By answer to “{question}”", loc="left")
    axes[-1, 0].set_xlabel(EFFECT_AXIS)
    _legend_below(fig, handles)
    return fig


def position_figure(*, rows: list[Interval]) -> Figure:
    """How much more often the left response wins than chance, per intervention."""
    fig = _figure(1.3 + 0.45 * len(rows))
    ax = fig.add_subplot()
    handles = _intervals(ax, rows, with_cs=False)
    ax.set_xlabel("Left answer chosen: percentage points above chance (50%)")
    ax.set_title("Position bias", loc="left")
    _legend_below(fig, handles)
    return fig


def agreement_figure(*, alphas: dict[str, float]) -> Figure:
    """Krippendorff's alpha of the choices on replicated pairs, per intervention."""
    names = sorted(alphas)
    fig = _figure(1.3 + 0.45 * len(names))
    ax = fig.add_subplot()
    ys = range(len(names) - 1, -1, -1)
    ax.hlines(list(ys), 0, [alphas[n] for n in names], color=LIGHT, linewidth=2.6)
    ax.plot([alphas[n] for n in names], list(ys), "o", color=INK, markersize=6)
    ax.set_yticks(list(ys), names)
    ax.set_ylim(-0.7, len(names) - 0.3)
    _zero(ax)
    lo = min([0.0, *alphas.values()])
    ax.set_xlim(min(lo - 0.05, -0.1), 1.0)
    ax.set_xlabel("Krippendorff's alpha (1 = full agreement, 0 = chance)")
    ax.set_title("Agreement between annotators on the same pair", loc="left")
    return fig


def quality_figure(*, labels_per_annotator: list[int], check_shares: list[float]) -> Figure:
    """Two histograms: labels per annotator, and each annotator's share of attention
    checks answered as asked (when the study has checks)."""
    fig = _figure(2.6)
    left, right = fig.subplots(1, 2)
    top = max(labels_per_annotator, default=1)
    left.hist(
        labels_per_annotator,
        bins=range(0, top + 2),
        color=LIGHT,
        edgecolor=INK,
        align="left",
    )
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.yaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_xlabel("Labels given")
    left.set_ylabel("Annotators")
    left.set_title("Labels per annotator", loc="left")
    right.set_title("Attention checks passed", loc="left")
    if check_shares:
        right.hist(
            [100 * s for s in check_shares],
            bins=[0, 20, 40, 60, 80, 100.001],
            color=LIGHT,
            edgecolor=INK,
            hatch="//",
        )
        right.yaxis.set_major_locator(MaxNLocator(integer=True))
        right.set_xlabel("Share passed (%)")
        right.set_ylabel("Annotators")
    else:
        right.text(0.5, 0.5, "No attention checks answered", ha="center", va="center")
        right.set_axis_off()
    return fig


def recruitment_figure(
    *,
    joined: list[datetime],
    labelled: list[datetime],
    label_target: int | None,
    annotator_target: int | None,
) -> Figure:
    """Annotators joined and labels given over time, each against its target."""
    fig = _figure(2.6)
    left, right = fig.subplots(1, 2)
    for ax, times, target, what in (
        (left, joined, annotator_target, "Annotators joined"),
        (right, labelled, label_target, "Labels"),
    ):
        ax.step(times, range(1, len(times) + 1), where="post", color=INK, linewidth=1.6)
        if target:
            ax.axhline(target, color=GREY, linestyle="--", linewidth=1.1)
            ax.annotate(
                f"target {target}",
                (0.02, target),
                xycoords=("axes fraction", "data"),
                ha="left",
                va="bottom",
                color=GREY,
            )
            ax.set_ylim(0, max(target, len(times)) * 1.1)
        ax.set_title(what, loc="left")
        ax.set_ylabel("Count")
        ax.set_xlabel("Time (UTC)")
        if times and (times[-1] - times[0]).total_seconds() < 60:
            # Under a minute of data leaves the date locator no interval to pick.
            ax.set_xlim(times[0] - timedelta(seconds=30), times[-1] + timedelta(seconds=30))
        locator = matplotlib.dates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(matplotlib.dates.ConciseDateFormatter(locator))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return fig
