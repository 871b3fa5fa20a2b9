"""Truth against estimate for a simulated study: a fragment the results page can include,
and a page of its own. Readers of the study only (collection.access)."""

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from collection.access import study_for_reader
from simulation.selectors import planted_effects, simulation_latest


@staff_member_required
def truth_vs_estimate(request: HttpRequest, slug: str) -> HttpResponse:
    study = study_for_reader(user=request.user, slug=slug)
    if study is None:
        raise Http404("no study with this link among the studies you can read")
    context = {
        "study": study,
        "run": simulation_latest(study=study),
        "rows": planted_effects(study),
    }
    return render(request, "simulation/truth_page.html", context)
