"""The planted truth as a section of the study's results page (analysis.results_sections)."""

from django.http import HttpRequest
from django.template.loader import render_to_string

from collection.models import Study
from simulation.selectors import planted_effects, simulation_latest


def truth_section(request: HttpRequest, study: Study) -> str:
    rows = planted_effects(study)
    if not rows:
        return ""
    context = {"rows": rows, "run": simulation_latest(study=study)}
    return render_to_string("simulation/truth_vs_estimate.html", context, request=request)
