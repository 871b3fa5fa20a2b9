"""Figures of the results page in percentage points (0.063 -> "+6.3")."""

from django import template

register = template.Library()


@register.filter
def points(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:+.1f}"
