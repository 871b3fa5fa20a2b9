"""The record of a simulation: which population was run on a study, with what seed, and
the effects it planted. Append-only: a new run is a new row, never an update."""

from django.db import models

from collection.models import Study
from interventions.models import Intervention


class SimulationRun(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+")
    population_name = models.CharField(max_length=200, help_text="The population's name.")
    population_toml = models.TextField(help_text="The population file exactly as run.")
    seed = models.BigIntegerField(help_text="Root seed of every draw of the simulation.")
    annotators = models.PositiveIntegerField(help_text="Simulated annotators requested.")
    base_url = models.CharField(max_length=500, help_text="The server the annotators used.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.population_name} on {self.study} (seed {self.seed})"


class PlantedEffect(models.Model):
    run = models.ForeignKey(
        SimulationRun, on_delete=models.CASCADE, related_name="planted", db_index=False
    )
    intervention = models.ForeignKey(Intervention, on_delete=models.PROTECT, related_name="+")
    effect = models.FloatField(
        help_text="True tau = P(prefer treated) - 1/2 at balanced position: the population "
        "average over the study's pairs of this intervention, as the annotators perceive them."
    )
    pairs = models.PositiveIntegerField(help_text="The study's pairs the truth averages over.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "intervention"], name="planted_once_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.intervention}: {self.effect:+.3f}"
