"""The simulation planner as a section of the study's planning page: choose a shipped
population, and simulated studies of each size (through the live estimators) give power,
interval width and a recommended size for the study's own interventions."""

from django import forms
from django.http import HttpRequest
from django.template.loader import render_to_string

from analysis.selectors import study_interventions
from collection.models import Study
from simulation.planner import Arm, arm_parse, plan
from simulation.population_file import builtin_populations, population_load

MAX_STUDIES = 1000
MAX_ANNOTATORS = 2000


def _sizes(text: str, largest: int) -> list[int]:
    try:
        values = sorted({int(v) for v in text.split(",") if v.strip()})
    except ValueError:
        raise forms.ValidationError("whole numbers separated by commas, e.g. 50,100,200") from None
    if not values or values[0] < 2 or values[-1] > largest or len(values) > 6:
        raise forms.ValidationError(f"one to six numbers from 2 to {largest}")
    return values


class SimulatedPlanForm(forms.Form):
    population = forms.ChoiceField(
        help_text="Simulated annotators (simulation/populations; README: Simulation). "
        "Their tastes, noise, lapses and abandonment decide the answer."
    )
    annotators = forms.CharField(initial="50,100,200", help_text="Sizes to try, e.g. 50,100,200")
    labels = forms.CharField(initial="10,20", label="Labels per annotator", help_text="e.g. 10,20")
    studies = forms.IntegerField(
        min_value=50,
        max_value=MAX_STUDIES,
        initial=200,
        help_text="Simulated studies per size: more is steadier and slower (200: about a second).",
    )
    power = forms.FloatField(min_value=0.5, max_value=0.99, initial=0.8, label="Target power")

    prefix = "sim"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        population = self.fields["population"]
        assert isinstance(population, forms.ChoiceField)
        population.choices = [(p.stem, p.stem) for p in builtin_populations()]

    def clean_annotators(self) -> list[int]:
        return _sizes(self.cleaned_data["annotators"], MAX_ANNOTATORS)

    def clean_labels(self) -> list[int]:
        return _sizes(self.cleaned_data["labels"], 200)


def _arms(study: Study, population) -> tuple[list[Arm], list[str]]:
    arms, skipped = [], []
    for intervention in study_interventions(study=study):
        try:
            arms.append(arm_parse(intervention.name, population))
        except ValueError:
            skipped.append(intervention.name)
    return arms, skipped


def simulated_plan_section(request: HttpRequest, study: Study) -> str:
    form = SimulatedPlanForm(request.GET if "sim-population" in request.GET else None)
    context: dict = {"form": form, "study": study}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        population = population_load(
            next(p for p in builtin_populations() if p.stem == data["population"])
        )
        arms, skipped = _arms(study, population)
        context["skipped"] = skipped
        if arms:
            result = plan(
                population,
                arms,
                annotators=data["annotators"],
                labels_per_annotator=data["labels"],
                studies=data["studies"],
                target_power=data["power"],
                # the estimand the study's results will use
                weighting="annotator" if study.estimand == Study.Estimand.ANNOTATOR else "label",
                seed=population.seed or 0,
            )
            context.update(result=result, best=result.recommend(), population=population)
    return render_to_string("simulation/planning_section.html", context, request=request)
