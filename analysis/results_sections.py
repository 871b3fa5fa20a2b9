"""Sections a higher app adds to a study's results page, such as the simulation's planted
truth beside the estimates. The app registers a renderer from its AppConfig.ready, so
analysis never imports it (dependencies point one way)."""

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from collection.models import Study

# (request, study) -> the section's HTML, "" when it has nothing to show for the study.
Section = Callable[[HttpRequest, Study], str]
_SECTIONS: list[Section] = []


def results_section_register(section: Section) -> None:
    if section not in _SECTIONS:
        _SECTIONS.append(section)


def results_sections(request: HttpRequest, study: Study) -> list[SafeString]:
    """Each registered section's HTML (rendered from the app's own escaped template)."""
    rendered = (section(request, study) for section in _SECTIONS)
    return [mark_safe(html) for html in rendered if html]  # noqa: S308
