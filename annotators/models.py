"""Who labels: pseudonymous annotators, their covariates and their consent."""

from django.conf import settings
from django.db import models


class CovariateSchema(models.Model):
    """The questionnaire an annotator answers before their first label.

    ``questions`` is a list of ``{"key", "label", "type", "choices"?, "required"?}`` with
    type ``choice`` (one of ``choices``), ``number`` (``min``/``max`` optional) or ``text``.
    """

    name = models.CharField(max_length=200, unique=True)
    questions = models.JSONField(help_text="Questions asked before the first label.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The researcher who wrote it; others see it only through their studies.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Annotator(models.Model):
    class Recruitment(models.TextChoices):
        PROLIFIC = "prolific", "Prolific"
        LINK = "link", "open link"
        INVITATION = "invitation", "invitation link"

    code = models.CharField(
        max_length=32, unique=True, help_text="Opaque random pseudonym; the only id exported."
    )
    external_id_hash = models.CharField(
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text="Keyed hash (HMAC-SHA256 with PSEUDONYM_KEY) of the recruiter's id, "
        "e.g. the Prolific PID. The id itself is never stored.",
    )
    recruitment = models.CharField(max_length=20, choices=Recruitment.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.code


class CovariateResponse(models.Model):
    """An annotator's answers to a covariate schema, recorded before exposure."""

    annotator = models.ForeignKey(
        Annotator, on_delete=models.PROTECT, related_name="covariates", db_index=False
    )
    schema = models.ForeignKey(CovariateSchema, on_delete=models.PROTECT, related_name="+")
    answers = models.JSONField(help_text="Question key -> answer, validated against the schema.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["annotator", "schema"], name="covariates_once_per_schema"
            )
        ]

    def __str__(self) -> str:
        return f"{self.annotator} answers to {self.schema}"


class ConsentRecord(models.Model):
    annotator = models.ForeignKey(
        Annotator, on_delete=models.PROTECT, related_name="consents", db_index=False
    )
    scope = models.CharField(max_length=200, help_text="What was consented to: the study slug.")
    text = models.TextField(help_text="The consent text exactly as shown.")
    given_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["annotator", "scope"], name="consent_once_per_scope")
        ]

    def __str__(self) -> str:
        return f"{self.annotator} consented to {self.scope}"
