"""Analysis state: estimate snapshots (history kept), per-annotator sufficient statistics,
the per-study refresh state and a log of every refresh run."""

from django.db import models

from annotators.models import Annotator
from collection.models import Study
from interventions.models import Intervention


class RefreshRun(models.Model):
    """One refresh of a study's estimates, as a worker ran it (the refresh log)."""

    class Kind(models.TextChoices):
        INCREMENTAL = "incremental", "incremental: fold labels past the watermark"
        FULL = "full", "full: rebuild the sums from every label and repair drift"

    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="refresh_runs", db_index=False
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    trigger = models.CharField(
        max_length=20,
        default="label",
        help_text="What asked for it: label, sweep, worker-start or schedule.",
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    labels_folded = models.PositiveIntegerField(
        help_text="Labels added to the sums by this run (corrections count once)."
    )
    watermark_from = models.BigIntegerField(help_text="Study watermark before the run.")
    watermark_to = models.BigIntegerField(help_text="Study watermark after the run.")
    snapshots = models.PositiveIntegerField(help_text="Estimate rows this run stored.")
    drift = models.FloatField(
        null=True,
        blank=True,
        help_text="Full runs: largest absolute difference between the stored incremental "
        "sums and the rebuilt ones (0 when they agreed); empty for incremental runs.",
    )

    class Meta:
        indexes = [models.Index(fields=["study", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.kind} refresh of {self.study} at {self.started_at:%H:%M:%S}"


class Estimate(models.Model):
    class Estimand(models.TextChoices):
        AMCE = "amce", "attribute effect: P(prefer treated) - 1/2 at balanced position"
        POSITION_BIAS = "position_bias", "position bias: P(the left response wins) - 1/2"

    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="estimates", db_index=False
    )
    intervention = models.ForeignKey(Intervention, on_delete=models.PROTECT, related_name="+")
    estimand = models.CharField(max_length=30, choices=Estimand.choices)
    subgroup = models.CharField(
        max_length=200, default="all", help_text="'all', or covariate=value for a subgroup."
    )

    Weighting = Study.Estimand  # the study setting each row records

    estimator = models.CharField(
        max_length=50, help_text="Estimator and variance, e.g. 'hajek-wls/cr2-bm'."
    )
    weighting = models.CharField(
        max_length=10,
        choices=Weighting.choices,
        default=Weighting.LABEL,
        help_text="Which average the row's point, interval and sequence all estimate.",
    )
    df = models.FloatField(
        null=True,
        blank=True,
        help_text="Degrees of freedom of the t reference of the interval and p-value "
        "(empty: normal).",
    )
    note = models.CharField(
        max_length=200,
        blank=True,
        help_text="Why a figure is missing, e.g. too few annotators for a p-value.",
    )
    n_labels = models.PositiveIntegerField()
    n_annotators = models.PositiveIntegerField()
    point = models.FloatField()
    se = models.FloatField(
        null=True, help_text="Cluster-robust standard error (by annotator); empty if undefined."
    )
    ci_low = models.FloatField(null=True, help_text="95% confidence interval, lower end.")
    ci_high = models.FloatField(null=True, help_text="95% confidence interval, upper end.")
    p_value = models.FloatField(
        null=True,
        help_text="Two-sided p-value against no effect; empty below the study's minimum "
        "annotators or when not estimable.",
    )
    cs_low = models.FloatField(
        null=True,
        blank=True,
        help_text="Anytime-valid confidence sequence (asymptotic, on this row's estimand, "
        "level 1 - alpha of the stopping rule), lower end, on the effect scale.",
    )
    cs_high = models.FloatField(
        null=True, blank=True, help_text="Anytime-valid confidence sequence, upper end."
    )
    p_always_valid = models.FloatField(
        null=True,
        blank=True,
        help_text="Always-valid p-value against no effect: the smallest alpha whose "
        "sequence excludes 0.",
    )
    p_holm = models.FloatField(
        null=True,
        blank=True,
        help_text="p-value adjusted by Holm within its family: one question's levels "
        "(subgroups) or the study's interventions (whole-sample rows).",
    )
    p_bh = models.FloatField(
        null=True,
        blank=True,
        help_text="p-value adjusted by Benjamini-Hochberg within the same family.",
    )
    watermark = models.BigIntegerField(help_text="Largest label id included in this snapshot.")
    run = models.ForeignKey(
        RefreshRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="estimates",
        help_text="The refresh that stored this snapshot.",
    )
    computed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["study", "intervention", "estimand", "-computed_at"])]

    def __str__(self) -> str:
        return f"{self.intervention} {self.estimand} = {self.point:+.3f}"


class AnnotatorSums(models.Model):
    """Sufficient statistics of one annotator's labels on one intervention of a study.

    With w the label's weight (1: see analysis.selectors), s = 2L - 1 and y the outcome
    under the study's tie and strength settings, the fields are the sums of w, w s,
    w y and w s y and the label count: exactly the ClusterSums of the effect regression
    for this annotator (X'WX = [[sum w, sum w s], [sum w s, sum w]]). Adding a label
    changes one row, so a refresh reads one row per annotator, not every label.
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+", db_index=False)
    intervention = models.ForeignKey(Intervention, on_delete=models.PROTECT, related_name="+")
    annotator = models.ForeignKey(Annotator, on_delete=models.PROTECT, related_name="+")
    n = models.PositiveIntegerField(help_text="Current labels (attention checks excluded).")
    sum_w = models.FloatField(help_text="Sum of the weights w.")
    sum_ws = models.FloatField(help_text="Sum of w (2L - 1).")
    sum_wy = models.FloatField(help_text="Sum of w y.")
    sum_wsy = models.FloatField(help_text="Sum of w (2L - 1) y.")
    watermark = models.BigIntegerField(help_text="Largest label id folded into this row.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["study", "intervention", "annotator"], name="annotator_sums_once"
            )
        ]

    def __str__(self) -> str:
        return f"sums of {self.annotator} on {self.intervention}"


class RefreshState(models.Model):
    """Where a study's incremental state stands. Only a refresh or a rebuild writes this
    row, under its row lock (its lease lives in RefreshLease, so renewing the lease never
    touches the row a refresh's snapshot reads)."""

    study = models.OneToOneField(
        Study, on_delete=models.CASCADE, primary_key=True, related_name="refresh_state"
    )
    watermark = models.BigIntegerField(
        default=0, help_text="Every label of the study up to this id is in the sums."
    )
    pending_ids = models.JSONField(
        default=list,
        blank=True,
        help_text="Label ids at or below the watermark that were not yet committed when it "
        "advanced ([id, first seen, epoch seconds]); re-read until they appear or expire.",
    )
    labels_total = models.PositiveIntegerField(
        default=0,
        help_text="Labels folded so far (corrections not counted, attention checks "
        "counted): what a label budget is compared with.",
    )
    stopped_reason = models.TextField(
        blank=True, help_text="Why the stopping rule paused the study, if it did."
    )
    outcome_rule = models.CharField(
        max_length=30,
        blank=True,
        help_text="The ties/strength settings the sums were built with; a change rebuilds.",
    )
    cs_rho = models.FloatField(
        null=True,
        blank=True,
        help_text="Mixing parameter of the confidence sequences, fixed at the first refresh.",
    )
    cs_alpha = models.FloatField(
        null=True, blank=True, help_text="Their level 1 - alpha, fixed at the first refresh."
    )

    def __str__(self) -> str:
        return f"refresh state of {self.study}"


class RefreshLease(models.Model):
    """The database-backed refresh lease of a study (embedded defaults, no Redis): who
    holds it until when, and whether a refresh is queued behind it."""

    study = models.OneToOneField(
        Study, on_delete=models.CASCADE, primary_key=True, related_name="refresh_lease"
    )
    held_until = models.DateTimeField(
        null=True, blank=True, help_text="A refresh holds the study until then unless renewed."
    )
    token = models.CharField(max_length=32, blank=True)
    queued_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A refresh is queued behind the one in flight until then.",
    )

    def __str__(self) -> str:
        return f"refresh lease of {self.study}"
