"""What annotators are shown: prompts, responses, interventions and the stimuli built from them."""

from django.conf import settings
from django.db import models


def _person(help_text: str) -> models.ForeignKey:
    """An optional link to a researcher that outlives their account (set to empty)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=help_text,
    )


class Prompt(models.Model):
    source = models.CharField(
        max_length=200,
        help_text="Where the prompt came from: the import's source name (a file or dataset).",
    )
    external_id = models.CharField(
        max_length=200, help_text="The prompt's id in its source (prompt_id in JSONL imports)."
    )
    category = models.CharField(
        max_length=100, blank=True, help_text="Category given by the source, if any."
    )
    text = models.TextField(help_text="The user's prompt, verbatim.")
    owner = _person("The researcher who imported it: only they may change it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="prompt_unique_source_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}/{self.external_id}"


class Response(models.Model):
    class Origin(models.TextChoices):
        IMPORTED = "imported", "imported"
        TRANSFORMED = "transformed", "transformed by a rule"

    prompt = models.ForeignKey(
        Prompt, on_delete=models.PROTECT, related_name="responses", db_index=False
    )
    text = models.TextField(help_text="The response text (markdown), untrusted.")
    model_name = models.CharField(
        max_length=200,
        help_text="Model that wrote the text; for a derived response, the model of its parent.",
    )
    origin = models.CharField(
        max_length=20, choices=Origin.choices, help_text="Imported as is, or derived by us."
    )
    generator = models.CharField(
        max_length=100,
        blank=True,
        help_text="For derived responses: the transform and its version, e.g. 'length@1'.",
    )
    parameters = models.JSONField(
        default=dict,
        blank=True,
        help_text="Parameters that produced a derived response (seed, direction, dose).",
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="derived",
        help_text="The response this one was derived from.",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["prompt", "model_name"],
                condition=models.Q(origin="imported"),
                name="response_one_import_per_model",
            ),
            models.UniqueConstraint(
                fields=["parent", "generator", "parameters"],
                condition=models.Q(origin="transformed"),
                name="response_unique_derivation",
            ),
        ]

    def __str__(self) -> str:
        label = self.generator or self.origin
        return f"{self.model_name} ({label}) #{self.pk}"


class Intervention(models.Model):
    """One attribute manipulation and the manipulation check that verifies it."""

    name = models.SlugField(unique=True, help_text="Identifier used in treatment vectors.")
    owner = _person(
        "Who defined it; empty for the built-in catalogue, which every researcher "
        "may use and only an administrator may change."
    )
    attribute = models.CharField(
        max_length=50, help_text="The attribute manipulated: length, markdown, hedging..."
    )
    transform = models.CharField(
        max_length=50, help_text="Name of the rule transform that makes the treated response."
    )
    parameters = models.JSONField(
        default=dict, blank=True, help_text="Transform parameters, e.g. direction and dose."
    )
    check_measure = models.CharField(
        max_length=50, help_text="Attribute measure the manipulation check reads, e.g. 'words'."
    )
    check_threshold = models.FloatField(
        help_text="Minimum relative change of the check measure, |treated-control|/control, "
        "in the intended direction, for a pair to pass."
    )
    tolerances = models.JSONField(
        default=dict,
        blank=True,
        help_text="Other measures that must not move: measure name -> largest absolute change.",
    )

    class Backend(models.TextChoices):
        RULE = "rule", "rule transform"
        LLM = "llm", "LLM rewrite"

    backend = models.CharField(
        max_length=10,
        choices=Backend.choices,
        default=Backend.RULE,
        help_text="Who makes the treated text: the rule transform, or an LLM rewrite through "
        "the OpenAI-compatible endpoint in settings (LLM_BASE_URL, LLM_MODEL); both are "
        "held to the same manipulation check.",
    )
    llm_instruction = models.TextField(
        blank=True,
        help_text="For the LLM backend: the rewrite instruction; blank uses the built-in "
        "template for the attribute and direction.",
    )
    check_question = models.CharField(
        max_length=300,
        blank=True,
        help_text="For pretests: the manipulation-check question annotators answer about a "
        "pair, e.g. 'Which response is more hedged?'; the treated side is the right answer. "
        "Blank: derived from the attribute and direction.",
    )
    description = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


class StimulusSet(models.Model):
    class GenerationStatus(models.TextChoices):
        NOT_STARTED = "not_started", "not started"
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    interventions = models.ManyToManyField(Intervention, blank=True, related_name="stimulus_sets")
    response_source = models.CharField(
        max_length=200,
        help_text="Generate from imported responses of this source (the import's source name).",
    )
    response_model = models.CharField(
        max_length=200,
        blank=True,
        help_text="Generate only from this model's responses; blank means every model.",
    )
    seed = models.BigIntegerField(help_text="Seed of every transform applied in this set.")

    class Design(models.TextChoices):
        SEPARATE = "separate", "one pair per intervention"
        FACTORIAL = "factorial", "factorial: every combination (2^k cells)"

    design = models.CharField(
        max_length=20,
        choices=Design.choices,
        default=Design.SEPARATE,
        help_text="Separate: each intervention alone against the base response. Factorial: "
        "every non-empty combination of the interventions, applied in sequence, against "
        "the base response (the control cell), so interactions can be estimated.",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    generation_status = models.CharField(
        max_length=20, choices=GenerationStatus.choices, default=GenerationStatus.NOT_STARTED
    )
    generation_total = models.PositiveIntegerField(default=0)
    generation_done = models.PositiveIntegerField(default=0)
    generation_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Stimulus(models.Model):
    class Provenance(models.TextChoices):
        INTERVENTIONAL = "interventional", "interventional (generated)"
        OBSERVATIONAL = "observational", "observational (imported pair)"

    class CheckStatus(models.TextChoices):
        PASSED = "passed", "passed"
        REJECTED = "rejected", "rejected"

    class Side(models.TextChoices):
        CONTROL = "control", "control"
        TREATED = "treated", "treated"

    class ReviewStatus(models.TextChoices):
        PENDING = "pending", "not reviewed yet"
        APPROVED = "approved", "approved by a reviewer"
        REJECTED = "rejected", "rejected by a reviewer"

    stimulus_set = models.ForeignKey(
        StimulusSet, on_delete=models.PROTECT, related_name="stimuli", db_index=False
    )
    prompt = models.ForeignKey(Prompt, on_delete=models.PROTECT, related_name="+")
    control = models.ForeignKey(
        Response,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The untreated response.",
    )
    treated = models.ForeignKey(
        Response,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The response with the intervention(s) applied.",
    )
    cell = models.CharField(
        max_length=200,
        help_text="Canonical key of the treatment vector: treated intervention names, "
        "sorted, joined by '+'.",
    )
    treatment = models.JSONField(
        help_text="Treatment vector: intervention name -> 1 if applied to the treated side."
    )
    provenance = models.CharField(
        max_length=20, choices=Provenance.choices, default=Provenance.INTERVENTIONAL
    )
    measures_control = models.JSONField(help_text="Attribute measures of the control response.")
    measures_treated = models.JSONField(help_text="Attribute measures of the treated response.")
    check_status = models.CharField(
        max_length=10, choices=CheckStatus.choices, help_text="Manipulation check outcome."
    )
    check_reason = models.TextField(blank=True, help_text="Why the manipulation check failed.")
    details = models.JSONField(
        default=dict,
        blank=True,
        help_text="What each intervention recorded about its edit, by intervention name; "
        "for factual_error: erroneous_side ('treated'), kind (number, date, unit), "
        "original, replacement, offset (character in the treated text) and context. "
        "For imported pairs: the import's line and format.",
    )
    review_status = models.CharField(
        max_length=10,
        choices=ReviewStatus.choices,
        default=ReviewStatus.PENDING,
        help_text="A person's verdict on the pair: does it differ in the intended attribute "
        "and in nothing else?",
    )
    review_reason = models.TextField(blank=True, help_text="Why the reviewer rejected it.")
    reviewed_by = _person("Who reviewed it.")
    reviewed_at = models.DateTimeField(null=True, blank=True, help_text="When it was reviewed.")

    class ValidationStatus(models.TextChoices):
        UNTESTED = "untested", "not in any pretest"
        PENDING = "pending", "pretest under way (fewer answers than required)"
        PASSED = "passed", "passed its pretest"
        FAILED = "failed", "failed a pretest"

    validation_status = models.CharField(
        max_length=10,
        choices=ValidationStatus.choices,
        default=ValidationStatus.UNTESTED,
        help_text="People's verdict in stimulus-validation studies (pretests): passed when "
        "it passed at least one pretest and failed none.",
    )
    validation_n = models.PositiveIntegerField(
        default=0, help_text="Pretest answers about this pair, over all its pretests."
    )
    validation_identified = models.PositiveIntegerField(
        default=0,
        help_text="Of those, answers that picked the treated side as the one "
        "with the intended attribute.",
    )
    validation_same_meaning = models.PositiveIntegerField(
        default=0,
        help_text="Of those, answers that said the two responses otherwise say the same thing.",
    )
    is_attention_check = models.BooleanField(
        default=False, help_text="Shown to test attention; excluded from effect estimates."
    )
    attention_answer = models.CharField(
        max_length=10,
        choices=Side.choices,
        blank=True,
        help_text="For attention checks: the side an attentive annotator picks.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "stimuli"
        constraints = [
            models.UniqueConstraint(
                fields=["stimulus_set", "control", "cell"], name="stimulus_unique_cell"
            ),
            models.CheckConstraint(
                condition=~models.Q(control=models.F("treated")),
                name="stimulus_sides_differ",
            ),
        ]
        indexes = [models.Index(fields=["stimulus_set", "check_status"])]

    def __str__(self) -> str:
        return f"stimulus #{self.pk} ({self.cell})"
