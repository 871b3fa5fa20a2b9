"""The study as it runs: studies, enrollments, assignments and labels (append-only)."""

from django.conf import settings
from django.db import models

from annotators.models import Annotator, CovariateSchema
from interventions.models import Stimulus, StimulusSet


class Study(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        RUNNING = "running", "running"
        PAUSED = "paused", "paused"
        CLOSED = "closed", "closed"

    class Design(models.TextChoices):
        COMPLETE = "complete", "complete randomisation"

    slug = models.SlugField(unique=True, help_text="Appears in the entry link /s/<slug>/.")
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    stimulus_sets = models.ManyToManyField(StimulusSet, related_name="studies")
    design_name = models.CharField(
        max_length=30,
        choices=Design.choices,
        default=Design.COMPLETE,
        help_text="Randomisation design that picks each annotator's next stimulus.",
    )
    design_params = models.JSONField(default=dict, blank=True)
    replication_factor = models.PositiveSmallIntegerField(
        default=3,
        help_text="k: most labels (completed plus in flight) any one stimulus receives.",
    )
    labels_per_annotator = models.PositiveSmallIntegerField(
        default=10, help_text="Labels an annotator gives before receiving the completion code."
    )
    label_target = models.PositiveIntegerField(
        null=True, blank=True, help_text="Stop assigning once the study has this many labels."
    )
    attention_check_rate = models.FloatField(
        default=0.0, help_text="Share of assignments that are attention checks."
    )
    assignment_ttl_seconds = models.PositiveIntegerField(
        default=1800, help_text="An unlabelled assignment returns to the pool after this long."
    )
    consent_text = models.TextField(help_text="Shown before anything else; must be accepted.")
    instructions = models.TextField(help_text="Shown above every pair.")
    covariate_schema = models.ForeignKey(
        CovariateSchema,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Questionnaire answered before the first label.",
    )
    stopping_rule = models.JSONField(default=dict, blank=True)
    completion_code = models.CharField(
        max_length=50, help_text="Shown when an annotator's quota is met (Prolific completion)."
    )
    seed = models.BigIntegerField(help_text="Root seed of every random choice in this study.")
    owners = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="studies")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "studies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(attention_check_rate__gte=0, attention_check_rate__lte=1),
                name="study_attention_rate_is_share",
            ),
            models.CheckConstraint(
                condition=models.Q(replication_factor__gte=1), name="study_k_at_least_one"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Enrollment(models.Model):
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="enrollments")
    annotator = models.ForeignKey(Annotator, on_delete=models.PROTECT, related_name="enrollments")
    prolific_study_id = models.CharField(max_length=100, blank=True)
    prolific_session_id = models.CharField(max_length=100, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "annotator"], name="enrollment_once")
        ]

    def __str__(self) -> str:
        return f"{self.annotator} in {self.study}"


class Assignment(models.Model):
    """One stimulus served to one annotator, with the probability of that choice."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="assignments")
    enrollment = models.ForeignKey(Enrollment, on_delete=models.PROTECT, related_name="assignments")
    annotator = models.ForeignKey(Annotator, on_delete=models.PROTECT, related_name="+")
    stimulus = models.ForeignKey(Stimulus, on_delete=models.PROTECT, related_name="assignments")
    sequence = models.PositiveIntegerField(
        help_text="0-based position of this assignment in the annotator's sequence."
    )
    treated_on_left = models.BooleanField(help_text="L: the treated response was shown left.")
    p_stimulus = models.FloatField(
        help_text="Probability the design picked this stimulus, given its state then."
    )
    p_order = models.FloatField(help_text="Probability of this left/right order.")
    propensity = models.FloatField(help_text="e = p_stimulus * p_order.")
    design_name = models.CharField(max_length=30)
    design_version = models.CharField(max_length=20)
    stratum = models.CharField(max_length=200, blank=True, help_text="Randomisation stratum.")
    rng_key = models.CharField(
        max_length=100, help_text="Seed sequence of the draw: study seed, enrollment, sequence."
    )
    served_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["annotator", "stimulus"], name="assignment_no_repeat_stimulus"
            ),
            models.UniqueConstraint(
                fields=["enrollment", "sequence"], name="assignment_unique_sequence"
            ),
            models.CheckConstraint(
                condition=models.Q(propensity__gt=0, propensity__lte=1),
                name="assignment_propensity_is_probability",
            ),
        ]
        indexes = [models.Index(fields=["stimulus", "expires_at"])]

    def __str__(self) -> str:
        return f"assignment #{self.pk}"


class Label(models.Model):
    """An annotator's judgement of one assignment. Append-only: corrections supersede."""

    class Choice(models.TextChoices):
        LEFT = "left", "left"
        RIGHT = "right", "right"
        TIE = "tie", "tie"

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="labels")
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="labels")
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
        help_text="The label this one corrects.",
    )
    choice = models.CharField(max_length=5, choices=Choice.choices)
    strength = models.PositiveSmallIntegerField(
        help_text="How strongly the choice was held: 1 slightly, 2 clearly, 3 much better."
    )
    rationale = models.TextField(blank=True, help_text="The annotator's reason, optional.")
    time_on_task_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="Time from display to submission, from the client."
    )
    submission_id = models.UUIDField(
        unique=True, help_text="Client-chosen idempotency key; a replay returns this label."
    )
    outcome = models.FloatField(
        help_text="y: 1 if the treated response was preferred, 0 if the control, 0.5 for a tie."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"],
                condition=models.Q(supersedes__isnull=True),
                name="label_one_per_assignment",
            ),
            models.CheckConstraint(
                condition=models.Q(choice__in=["left", "right", "tie"]), name="label_choice_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(strength__gte=1, strength__lte=3), name="label_strength_1_3"
            ),
            models.CheckConstraint(
                condition=models.Q(outcome__in=[0.0, 0.5, 1.0]), name="label_outcome_valid"
            ),
        ]
        indexes = [models.Index(fields=["study", "id"])]

    def __str__(self) -> str:
        return f"label #{self.pk}: {self.choice}"
