"""Estimate snapshots: one row per refresh, study, intervention, estimand and subgroup."""

from django.db import models

from collection.models import Study
from interventions.models import Intervention


class Estimate(models.Model):
    class Estimand(models.TextChoices):
        AMCE = "amce", "attribute effect: P(prefer treated) - 1/2 at balanced position"
        POSITION_BIAS = "position_bias", "position bias: P(the left response wins) - 1/2"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="estimates")
    intervention = models.ForeignKey(Intervention, on_delete=models.PROTECT, related_name="+")
    estimand = models.CharField(max_length=30, choices=Estimand.choices)
    subgroup = models.CharField(
        max_length=200, default="all", help_text="'all', or covariate=value for a subgroup."
    )
    estimator = models.CharField(
        max_length=50, help_text="Estimator and variance, e.g. 'hajek-wls/cr1'."
    )
    n_labels = models.PositiveIntegerField()
    n_annotators = models.PositiveIntegerField()
    point = models.FloatField()
    se = models.FloatField(
        null=True, help_text="Cluster-robust standard error (by annotator); empty if undefined."
    )
    ci_low = models.FloatField(null=True, help_text="95% confidence interval, lower end.")
    ci_high = models.FloatField(null=True, help_text="95% confidence interval, upper end.")
    p_value = models.FloatField(null=True, help_text="Two-sided p-value against no effect.")
    watermark = models.BigIntegerField(help_text="Largest label id included in this snapshot.")
    computed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["study", "intervention", "estimand", "-computed_at"])]

    def __str__(self) -> str:
        return f"{self.intervention} {self.estimand} = {self.point:+.3f}"
