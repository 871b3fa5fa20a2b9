"""Reward models, their scores of stimulus sides, and audit snapshots (append-only)."""

from django.conf import settings
from django.db import models

from collection.models import Study
from interventions.models import Intervention, Stimulus


class RewardModel(models.Model):
    class Source(models.TextChoices):
        SCORES = "scores", "scores uploaded as JSONL"
        HTTP = "http", "an HTTP scoring endpoint"
        TEXT = "text", "the built-in text-feature model (Bradley-Terry, trained here)"

    name = models.CharField(max_length=200, unique=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    endpoint_url = models.URLField(
        blank=True,
        help_text='HTTP source only: POST {"items": [{"id", "prompt", "response"}]} '
        'answered with {"scores": [numbers in the same order]}.',
    )
    parameters = models.JSONField(
        default=dict, blank=True, help_text="Text source only: the trained weights."
    )
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    last_error = models.TextField(
        blank=True, help_text="Why the newest queued audit failed (empty when it did not)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class RewardScore(models.Model):
    """A reward model's score of one side of one stimulus; never changed once stored."""

    reward_model = models.ForeignKey(
        RewardModel, on_delete=models.CASCADE, related_name="scores", db_index=False
    )
    stimulus = models.ForeignKey(Stimulus, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=10, choices=Stimulus.Side.choices)
    score = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reward_model", "stimulus", "side"], name="one_score_per_side"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reward_model} {self.stimulus_id} {self.side} = {self.score:g}"


class AuditResult(models.Model):
    """One intervention's audit: the model's preference for the treated side, the people's
    latest whole-sample effect on the same study, and the gap (model minus people)."""

    reward_model = models.ForeignKey(RewardModel, on_delete=models.CASCADE, related_name="+")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+", db_index=False)
    intervention = models.ForeignKey(Intervention, on_delete=models.PROTECT, related_name="+")
    pairs = models.PositiveIntegerField(help_text="Pairs scored on both sides.")
    prompts = models.PositiveIntegerField(help_text="Distinct prompts among them (clusters).")
    point = models.FloatField(
        help_text="Model: share of pairs it ranks the treated side first - 1/2 (order only)."
    )
    se = models.FloatField(null=True)
    ci_low = models.FloatField(null=True)
    ci_high = models.FloatField(null=True)
    bt_point = models.FloatField(
        null=True,
        help_text="Model: mean expit(r_treated - r_control) - 1/2, the Bradley-Terry preference "
        "(meaningful when the scores are on that scale, as a reward model's are).",
    )
    bt_ci_low = models.FloatField(null=True)
    bt_ci_high = models.FloatField(null=True)
    human_point = models.FloatField(null=True, help_text="People: the latest AMCE, if any.")
    human_se = models.FloatField(null=True)
    human_ci_low = models.FloatField(null=True)
    human_ci_high = models.FloatField(null=True)
    gap = models.FloatField(null=True, help_text="Model minus people.")
    gap_ci_low = models.FloatField(null=True)
    gap_ci_high = models.FloatField(null=True)
    run = models.PositiveIntegerField(help_text="Audit run: the rows of one run share it.")
    computed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["study", "reward_model", "-run"])]

    def __str__(self) -> str:
        return f"{self.reward_model} on {self.intervention}: {self.point:+.3f}"
