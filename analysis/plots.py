"""Server-side SVG plots (no script: the pages' CSP allows none inline)."""

from dataclasses import dataclass

from django.utils.html import escape

WIDTH, HEIGHT, PAD = 640, 260, 44
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


@dataclass(frozen=True)
class Point:
    x: float  # labels covered
    point: float
    ci_low: float | None
    ci_high: float | None
    cs_low: float | None
    cs_high: float | None


def _scale(lo: float, hi: float, a: float, b: float):
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def convergence_svg(*, series: dict[str, list[Point]]) -> str:
    """The effect estimate of each intervention against labels covered, with its 95%
    interval (band) and its anytime-valid confidence sequence (dashed lines)."""
    points = [p for ps in series.values() for p in ps]
    if not points:
        return ""
    ys = [
        v
        for p in points
        for v in (p.point, p.ci_low, p.ci_high, p.cs_low, p.cs_high)
        if v is not None
    ] + [0.0]
    y_lo, y_hi = max(min(ys), -0.5), min(max(ys), 0.5)
    sx = _scale(min(p.x for p in points), max(p.x for p in points), PAD, WIDTH - 10)
    sy = _scale(y_lo, y_hi, HEIGHT - PAD, 10)

    def clamp(v: float | None) -> float:
        return min(max(v or 0.0, y_lo), y_hi)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="convergence" role="img" aria-label="estimates as labels arrive">',
        f'<line x1="{PAD}" x2="{WIDTH - 10}" y1="{sy(0):.1f}" y2="{sy(0):.1f}" stroke="#888"/>',
        f'<text x="4" y="{sy(y_hi) + 4:.1f}" font-size="11">{y_hi:+.2f}</text>',
        f'<text x="4" y="{sy(y_lo) + 4:.1f}" font-size="11">{y_lo:+.2f}</text>',
        f'<text x="{WIDTH - 10}" y="{HEIGHT - 8}" font-size="11" text-anchor="end">labels</text>',
    ]
    for k, (name, ps) in enumerate(sorted(series.items())):
        colour = COLOURS[k % len(COLOURS)]
        band = [p for p in ps if p.ci_low is not None and p.ci_high is not None]
        if band:
            upper = " ".join(f"{sx(p.x):.1f},{sy(clamp(p.ci_high)):.1f}" for p in band)
            lower = " ".join(f"{sx(p.x):.1f},{sy(clamp(p.ci_low)):.1f}" for p in band[::-1])
            parts.append(f'<polygon points="{upper} {lower}" fill="{colour}" fill-opacity="0.15"/>')
        for attr in ("cs_low", "cs_high"):
            line = [p for p in ps if getattr(p, attr) is not None]
            if line:
                coords = " ".join(f"{sx(p.x):.1f},{sy(clamp(getattr(p, attr))):.1f}" for p in line)
                parts.append(
                    f'<polyline points="{coords}" fill="none" stroke="{colour}" '
                    'stroke-dasharray="4 3"/>'
                )
        coords = " ".join(f"{sx(p.x):.1f},{sy(clamp(p.point)):.1f}" for p in ps)
        parts.append(
            f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        parts.append(
            f'<text x="{PAD + 8}" y="{20 + 14 * k}" font-size="12" fill="{colour}">'
            f"{escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
