"""The study as it runs: studies, enrollments, assignments and labels (append-only)."""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from annotators.models import Annotator, CovariateSchema
from collection.recruitment import (
    PROLIFIC_COMPLETION_URL,
    code_validator,
    completion_url_template_validate,
)
from interventions.models import Stimulus, StimulusSet

# The pool bucket of attention-check stimuli: drawn at the study's attention-check rate,
# never moved between levels (every annotator may see every check; k does not apply).
ATTENTION_CELL = "!attention"


class Study(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        RUNNING = "running", "running"
        PAUSED = "paused", "paused"
        CLOSED = "closed", "closed"

    class Design(models.TextChoices):
        COMPLETE = "complete", "complete randomisation"
        LEAST_LABELLED = "least_labelled", "least-labelled-first (replication k)"
        STRATIFIED = "stratified", "stratified by covariate strata"
        NEYMAN = "neyman", "adaptive: Neyman allocation across cells"

    class OrderScheme(models.TextChoices):
        BERNOULLI = "bernoulli", "Bernoulli(1/2) per assignment"
        BLOCK = "block", "permuted blocks within an annotator"

    slug = models.SlugField(
        unique=True, help_text="The entry link is /s/ followed by this slug, e.g. /s/demo/."
    )
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    stimulus_sets = models.ManyToManyField(StimulusSet, related_name="studies")
    design_name = models.CharField(
        max_length=30,
        choices=Design.choices,
        default=Design.COMPLETE,
        help_text="Randomisation design that picks each annotator's next stimulus.",
    )
    design_params = models.JSONField(
        default=dict,
        blank=True,
        help_text="Design parameters. stratified: {'strata': [covariate keys]}.",
    )
    order_scheme = models.CharField(
        max_length=10,
        choices=OrderScheme.choices,
        default=OrderScheme.BERNOULLI,
        help_text="How the treated response's side is randomised.",
    )
    order_block_size = models.PositiveSmallIntegerField(
        default=4, help_text="Block length (even) for permuted-block ordering."
    )
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

    class Ties(models.TextChoices):
        HALF = "half", "a tie counts as half a preference for each side"
        EXCLUDE = "exclude", "ties are left out of the effect estimates"

    class Strength(models.TextChoices):
        IGNORE = "ignore", "ignored: only the choice counts"
        GRADED = "graded", "graded: a slight preference counts less than a strong one"

    class Estimand(models.TextChoices):
        LABEL = "label", "label-weighted: every label counts once"
        ANNOTATOR = "annotator", "annotator-weighted: every annotator counts once"

    ties = models.CharField(
        max_length=10,
        choices=Ties.choices,
        default=Ties.HALF,
        help_text="How a tie enters the effect estimates and the exports' outcome y.",
    )
    strength = models.CharField(
        max_length=10,
        choices=Strength.choices,
        default=Strength.IGNORE,
        help_text="Whether the stated strength of a preference grades the outcome y. "
        "Graded: the label page preselects no strength and asks for one; ignored: it "
        "starts at 'clearly better'.",
    )
    estimand = models.CharField(
        max_length=10,
        choices=Estimand.choices,
        default=Estimand.LABEL,
        help_text="Whose average the attribute effect is: every label's or every annotator's.",
    )
    attention_min_share = models.FloatField(
        default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        verbose_name="attention checks to pass",
        help_text="Share of the attention checks an annotator must answer as asked to get "
        "the completion code (0: none required). Those below see no code.",
    )

    class Kind(models.TextChoices):
        PREFERENCE = "preference", "preference: which response is better"
        PRETEST = "pretest", "stimulus validation (pretest): manipulation-check questions"

    kind = models.CharField(
        max_length=12,
        choices=Kind.choices,
        default=Kind.PREFERENCE,
        help_text="A preference study asks which response is better; a pretest asks, per "
        "pair, which response shows the intended attribute and whether they otherwise say "
        "the same thing, and produces no preference labels or effect estimates.",
    )
    pretest_min_answers = models.PositiveSmallIntegerField(
        "answers needed per pair",
        default=5,
        validators=[MinValueValidator(1)],
        help_text="Pretests: answers a pair needs before it can pass or fail.",
    )
    pretest_min_identified = models.FloatField(
        "least share noticing the change",
        default=0.8,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Pretests: least share of answers that pick the treated side for a pair to pass.",
    )
    pretest_min_same_meaning = models.FloatField(
        "least share saying the meaning is the same",
        default=0.8,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Pretests: least share of answers saying the two responses otherwise say "
        "the same thing for a pair to pass.",
    )
    require_validated = models.BooleanField(
        default=False,
        verbose_name="serve only validated pairs",
        help_text="Serve only pairs that passed a pretest (a stimulus-validation study) and "
        "failed none. Pairs that pass after launch join the pool when 'Add newly eligible "
        "pairs' runs.",
    )
    require_approved = models.BooleanField(
        default=False,
        verbose_name="serve only approved pairs",
        help_text="Serve only pairs a reviewer approved in the admin (Stimuli: review). "
        "Pairs approved after launch join the pool when 'Add newly eligible pairs' runs.",
    )
    min_annotators = models.PositiveSmallIntegerField(
        default=10,
        help_text="Rows estimated from fewer annotators show no p-value or interval.",
    )
    completion_code = models.CharField(
        max_length=50,
        blank=True,
        validators=[code_validator],
        help_text="Shown (and sent to the completion URL) when an annotator's quota is met. "
        "Blank: every annotator gets a code of their own, shown on the page without a "
        "redirect (Prolific accepts only the codes set up in its study).",
    )
    completion_url_template = models.CharField(
        "completion URL",
        max_length=500,
        blank=True,
        default=PROLIFIC_COMPLETION_URL,
        validators=[completion_url_template_validate],
        help_text="Where a participant who arrived from Prolific is sent at the end, {code} "
        "replaced by the code of how they left. Blank: no redirect, the code is shown.",
    )
    no_consent_code = models.CharField(
        max_length=50,
        blank=True,
        validators=[code_validator],
        help_text="Sent to the completion URL when a participant declines consent. "
        "Blank: a thank-you page, no redirect.",
    )
    returned_code = models.CharField(
        max_length=50,
        blank=True,
        validators=[code_validator],
        help_text="Sent to the completion URL when a participant stops and returns the "
        "study part-way. Blank: a thank-you page, no redirect.",
    )
    expected_duration = models.CharField(
        max_length=100,
        blank=True,
        help_text="Shown on the consent page when set, e.g. 'about 15 minutes'.",
    )
    payment = models.CharField(
        max_length=200,
        blank=True,
        help_text="Shown on the consent page when set, e.g. '£2.50 through Prolific'.",
    )
    contact = models.CharField(
        max_length=200,
        blank=True,
        help_text="Who to contact about the study, shown on the consent page when set "
        "(an e-mail address becomes a link).",
    )
    invitation_only = models.BooleanField(
        default=False,
        help_text="Admit only people who open an invitation link (Invitations: add); "
        "the open link and Prolific links are refused.",
    )
    require_both_opened = models.BooleanField(
        "both responses read before voting",
        default=False,
        help_text="The choice is enabled only once the participant has had each response "
        "shown to its end (on a phone: opened both tabs). Needs JavaScript in the browser.",
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


class StudyAccess(models.Model):
    """A researcher granted a study they do not own: read (results, exports, records) or
    edit (also the study's settings). Owners have both and may grant them."""

    class Role(models.TextChoices):
        READ = "read", "read: results, exports and records"
        EDIT = "edit", "edit: also the study's settings"

    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="access", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_access"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.READ)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "collaborator"
        constraints = [models.UniqueConstraint(fields=["study", "user"], name="study_access_once")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) on {self.study}"


class Enrollment(models.Model):
    study = models.ForeignKey(
        Study, on_delete=models.PROTECT, related_name="enrollments", db_index=False
    )
    annotator = models.ForeignKey(Annotator, on_delete=models.PROTECT, related_name="enrollments")
    prolific_study_id = models.CharField(max_length=100, blank=True)
    prolific_session_id = models.CharField(max_length=100, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the participant declined consent: nothing else is recorded.",
    )
    returned_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the participant stopped part-way and returned the study; the "
        "labels given before are kept.",
    )
    labels_done = models.PositiveIntegerField(
        default=0,
        help_text="Labels given (not counting corrections), counted by the label service "
        "in the transaction that stores each one; the quota and progress read it.",
    )
    practice_done_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the participant answered the study's last practice pair; no pair "
        "of the study is served before (a study without practice pairs needs none).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "annotator"], name="enrollment_once"),
            # A decline records nothing but itself; a return ends an unfinished place.
            models.CheckConstraint(
                condition=models.Q(declined_at__isnull=True)
                | models.Q(consented_at__isnull=True, returned_at__isnull=True),
                name="enrollment_declined_never_consented",
            ),
            models.CheckConstraint(
                condition=models.Q(returned_at__isnull=True)
                | models.Q(consented_at__isnull=False, completed_at__isnull=True),
                name="enrollment_returned_unfinished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.annotator} in {self.study}"

    @property
    def ended(self) -> bool:
        """Declined or returned: the participant left, and gets no pair again."""
        return self.declined_at is not None or self.returned_at is not None


class PracticePair(models.Model):
    """A pair the researcher wrote to teach the task: answered before the study's pairs,
    with feedback, and never counted (its answers are not labels)."""

    class Choice(models.TextChoices):
        LEFT = "left", "A is better"
        RIGHT = "right", "B is better"
        TIE = "tie", "about the same"

    study = models.ForeignKey(
        Study, on_delete=models.CASCADE, related_name="practice_pairs", db_index=False
    )
    position = models.PositiveSmallIntegerField(default=1, help_text="Order of the pairs.")
    prompt = models.TextField(help_text="Markdown, shown as the question.")
    left = models.TextField("response A", help_text="Markdown, shown as response A.")
    right = models.TextField("response B", help_text="Markdown, shown as response B.")
    expected = models.CharField(
        "expected answer", max_length=5, choices=Choice.choices, default=Choice.LEFT
    )
    feedback = models.TextField(
        help_text="Why the expected answer is right: shown after the participant answers."
    )

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["study", "position"], name="practice_position_once")
        ]

    def __str__(self) -> str:
        return f"practice pair {self.position} of {self.study}"


class PracticeAnswer(models.Model):
    """A participant's answer to a practice pair (append-only, one per pair and person)."""

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="practice_answers", db_index=False
    )
    practice = models.ForeignKey(PracticePair, on_delete=models.PROTECT, related_name="answers")
    choice = models.CharField(max_length=5, choices=PracticePair.Choice.choices)
    correct = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "practice"], name="practice_answered_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_choice_display()} on {self.practice}"


class Invitation(models.Model):
    """A single-use link into a study run outside Prolific. Only a keyed hash of its
    token is stored: the link is shown once, when it is made."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    note = models.CharField(
        max_length=200, blank=True, help_text="For you: whom the links are for, e.g. 'lab panel'."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)
    enrollment = models.OneToOneField(
        Enrollment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invitation",
        help_text="The place the link opened; a used link opens nothing else.",
    )

    def __str__(self) -> str:
        return f"invitation {self.pk} to {self.study}"


class Assignment(models.Model):
    """One stimulus served to one annotator, with the probability of that choice."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="assignments")
    # db_index=False where an index of Meta leads with the column: every index is written
    # on each draw and again when the label marks the row (state is in a partial index).
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="assignments", db_index=False
    )
    annotator = models.ForeignKey(
        Annotator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    stimulus = models.ForeignKey(
        Stimulus, on_delete=models.PROTECT, related_name="assignments", db_index=False
    )
    sequence = models.PositiveIntegerField(
        help_text="0-based position of this assignment in the annotator's sequence."
    )
    treated_on_left = models.BooleanField(help_text="L: the treated response was shown left.")
    p_stimulus = models.FloatField(
        help_text="Probability the design picked this stimulus, given its state then."
    )
    p_order = models.FloatField(help_text="Probability of this left/right order.")
    propensity = models.FloatField(help_text="e = p_stimulus * p_order.")
    design_name = models.CharField(max_length=30, help_text="Design that made the draw.")
    design_version = models.CharField(max_length=20, help_text="Version of that design.")
    order_scheme = models.CharField(
        max_length=10,
        default="bernoulli",
        help_text="bernoulli or block: how the order was drawn (a forced block slot has p 1).",
    )
    cell = models.CharField(
        max_length=200, blank=True, help_text="Treatment cell of the stimulus at the draw."
    )
    is_attention_check = models.BooleanField(
        default=False, help_text="Served as an attention check (not subject to k)."
    )
    stratum = models.CharField(max_length=200, blank=True, help_text="Randomisation stratum.")
    rng_key = models.CharField(
        max_length=100, help_text="Seed sequence of the draw: study seed, enrollment, sequence."
    )
    served_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class State(models.TextChoices):
        OPEN = "open", "open"
        LABELLED = "labelled", "labelled"
        RETURNED = "returned", "returned to the pool"

    state = models.CharField(
        max_length=10,
        choices=State.choices,
        default=State.OPEN,
        help_text="open until labelled, or returned to the pool unlabelled (expired, or its "
        "annotator stopped).",
    )
    returned_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the unlabelled assignment was returned to the pool: it expired, "
        "or its annotator stopped and returned the study.",
    )

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
        indexes = [
            models.Index(fields=["stimulus", "expires_at"]),
            # The expiry sweep reads only open assignments past their expiry.
            models.Index(
                fields=["expires_at"],
                condition=models.Q(state="open"),
                name="assignment_open_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"assignment #{self.pk}"


class Label(models.Model):
    """An annotator's judgement of one assignment. Append-only: corrections supersede."""

    class Choice(models.TextChoices):
        LEFT = "left", "left"
        RIGHT = "right", "right"
        TIE = "tie", "tie"

    # Its index is Meta's (study, id).
    study = models.ForeignKey(
        Study, on_delete=models.PROTECT, related_name="labels", db_index=False
    )
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


class CheckAnswer(models.Model):
    """An annotator's answers to a pretest's manipulation-check questions about one
    assignment. Append-only, one per assignment."""

    class Identified(models.TextChoices):
        LEFT = "left", "response A (left)"
        RIGHT = "right", "response B (right)"
        NONE = "none", "no difference"

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="check_answers")
    assignment = models.OneToOneField(
        Assignment, on_delete=models.PROTECT, related_name="check_answer"
    )
    stimulus = models.ForeignKey(
        Stimulus, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    identified = models.CharField(
        max_length=5,
        choices=Identified.choices,
        help_text="The side the annotator said shows the intended attribute, or none.",
    )
    identified_treated = models.BooleanField(
        help_text="The annotator picked the treated side (the manipulation was noticed)."
    )
    same_meaning = models.BooleanField(
        help_text="The annotator said that, apart from that, the two responses say the same thing."
    )
    time_on_task_ms = models.PositiveIntegerField(
        null=True, blank=True, help_text="Time from display to submission, from the client."
    )
    submission_id = models.UUIDField(
        unique=True, help_text="Client-chosen idempotency key; a replay returns this answer."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(identified__in=["left", "right", "none"]),
                name="check_answer_identified_valid",
            ),
        ]
        indexes = [models.Index(fields=["stimulus", "study"])]

    def __str__(self) -> str:
        return f"check answer #{self.pk}"


class StimulusSlot(models.Model):
    """A stimulus's place in a study's pool: its live count and its bucket position.

    Stimuli of one (cell, level) form a dense array ``pos`` 0..size-1, so the engine
    draws a uniform position and fetches one row by index: no query scans the pool.
    Moving a stimulus between levels swaps the bucket's last row into its place.
    """

    # Indexed by slot_once_per_study, which leads with it; a move rewrites every index.
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+", db_index=False)
    stimulus = models.ForeignKey(Stimulus, on_delete=models.CASCADE, related_name="+")
    cell = models.CharField(
        max_length=200, help_text="Treatment cell, or '!attention' for attention checks."
    )
    level = models.PositiveIntegerField(
        default=0, help_text="Live assignments: labelled, or in flight and not returned."
    )
    pos = models.PositiveIntegerField(help_text="Position within the (cell, level) bucket.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "stimulus"], name="slot_once_per_study"),
            models.UniqueConstraint(
                fields=["study", "cell", "level", "pos"], name="slot_dense_position"
            ),
        ]

    def __str__(self) -> str:
        return f"slot of stimulus {self.stimulus_id}: {self.cell} level {self.level}"


class SlotBucket(models.Model):
    """How many slots a (cell, level) bucket holds. These rows are the engine's lock."""

    # Indexed by bucket_once, which leads with it.
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+", db_index=False)
    cell = models.CharField(max_length=200)
    level = models.PositiveIntegerField()
    size = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "cell", "level"], name="bucket_once")
        ]

    def __str__(self) -> str:
        return f"{self.cell} level {self.level}: {self.size}"


class CellTally(models.Model):
    """Running counts per stratum and cell: live assignments (stratified balance) and
    outcome sums of labels (adaptive allocation)."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+", db_index=False)
    stratum = models.CharField(max_length=200, blank=True, help_text="Randomisation stratum.")
    cell = models.CharField(max_length=200, help_text="Treatment cell.")
    assigned = models.IntegerField(default=0, help_text="Live assignments in this stratum.")
    labels = models.IntegerField(default=0, help_text="Labels counted (adaptive design only).")
    y_sum = models.FloatField(default=0.0, help_text="Sum of outcomes y of those labels.")
    y_sq_sum = models.FloatField(default=0.0, help_text="Sum of y squared of those labels.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "stratum", "cell"], name="tally_once")
        ]

    def __str__(self) -> str:
        return f"{self.stratum or 'all'} / {self.cell}"


class Export(models.Model):
    """A dataset export a researcher asked for: what, with which filters, and the file the
    worker wrote. The request and its options never change; only the worker's outcome
    (status, counts, file, digest, error) is filled in once."""

    class Format(models.TextChoices):
        TRL = "trl", "TRL preference, standard (prompt/chosen/rejected text)"
        TRL_CONVERSATIONAL = "trl_conversational", "TRL preference, conversational (messages)"
        KTO = "kto", "KTO unpaired (prompt/completion/label)"
        LABELS = "labels", "full label table (one row per label, ties included)"
        PRETEST_ANSWERS = "pretest_answers", "a pretest's answers (one row per answered pair)"

    class FileFormat(models.TextChoices):
        JSONL = "jsonl", "JSON Lines"
        PARQUET = "parquet", "Parquet"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    study = models.ForeignKey(
        Study, on_delete=models.PROTECT, related_name="exports", db_index=False
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    format = models.CharField(max_length=20, choices=Format.choices)
    file_format = models.CharField(max_length=10, choices=FileFormat.choices)
    options = models.JSONField(default=dict, blank=True, help_text="Filters asked for.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    file_name = models.CharField(
        max_length=100, blank=True, help_text="Random name of the zip under VAR_DIR/exports."
    )
    rows = models.PositiveIntegerField(null=True, blank=True, help_text="Rows in the data file.")
    labels = models.PositiveIntegerField(null=True, blank=True, help_text="Labels exported.")
    counts = models.JSONField(
        default=dict, blank=True, help_text="Labels read, ties, and what each filter left out."
    )
    sha256 = models.CharField(max_length=64, blank=True, help_text="Digest of the zip.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["study", "-created_at"])]

    def __str__(self) -> str:
        return f"export #{self.pk} of {self.study}: {self.format}.{self.file_format}"


class ApiToken(models.Model):
    """A researcher's key to the REST API (/api/v1/). Only a keyed hash of the token is
    stored: it is shown once, when made; its prefix tells tokens apart afterwards."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'laptop'.")
    prefix = models.CharField(max_length=12, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


def _webhook_secret() -> str:
    return secrets.token_hex(32)


class Webhook(models.Model):
    """An address told of a study's events (a label stored, estimates updated, the
    stopping rule met) by a signed POST, retried until it answers 2xx."""

    class Event(models.TextChoices):
        LABEL_CREATED = "label.created", "label created"
        ESTIMATE_UPDATED = "estimate.updated", "estimates updated"
        STUDY_COMPLETED = "study.completed", "study completed (its stopping rule met)"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField("URL", max_length=500, help_text="An http(s) address that takes a POST.")
    events = models.JSONField(
        default=list, help_text="Which events to send: any of " + ", ".join(Event.values)
    )
    secret = models.CharField(
        max_length=64,
        editable=False,
        default=_webhook_secret,
        help_text="Signs every delivery: X-Counterpoint-Signature is sha256= and the "
        "HMAC-SHA256, with this secret, of the X-Counterpoint-Timestamp value, a dot and the "
        "body.",
    )
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.url} ({', '.join(self.events)})"


class WebhookDelivery(models.Model):
    """One event for one webhook, and how its delivery went (attempts, last answer)."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        DELIVERED = "delivered", "delivered"
        FAILED = "failed", "failed (retries exhausted)"

    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    event = models.CharField(max_length=30, choices=Webhook.Event.choices)
    delivery_id = models.UUIDField(unique=True, help_text="Sent as X-Counterpoint-Delivery.")
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_activity_at = models.DateTimeField(
        auto_now_add=True, help_text="Queued or attempted last; the sweep re-queues idle ones."
    )
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["webhook", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.event} to {self.webhook.url}: {self.status}"
