"""Sections a higher app adds to a study's pages in analysis: the results page (the
simulation's planted truth, the reward-model audits) and the planning page (the
simulation's planner). The app registers a renderer from its AppConfig.ready, so analysis
never imports it (dependencies point one way)."""

from collections.abc import Callable
from typing import Literal

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from collection.models import Study

# (request, study) -> the section's HTML, "" when it has nothing to show for the study.
Section = Callable[[HttpRequest, Study], str]
Page = Literal["results", "planning"]
_SECTIONS: dict[str, list[Section]] = {"results": [], "planning": []}


def results_section_register(section: Section, *, page: Page = "results") -> None:
    if section not in _SECTIONS[page]:
        _SECTIONS[page].append(section)


def results_sections(
    request: HttpRequest, study: Study, *, page: Page = "results"
) -> list[SafeString]:
    """Each registered section's HTML (rendered from the app's own escaped template)."""
    rendered = (section(request, study) for section in _SECTIONS[page])
    return [mark_safe(html) for html in rendered if html]  # noqa: S308
