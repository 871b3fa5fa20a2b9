"""Writes for annotators: pseudonymous identities, covariates, consent."""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction

from annotators.covariates import covariates_validate
from annotators.models import Annotator, ConsentRecord, CovariateResponse, CovariateSchema


def external_id_hash(external_id: str, *, scope: str) -> str:
    """Keyed hash of a recruiter's id within a scope (a study): stable for a returning
    annotator, different in every scope (so two studies cannot link one person), and
    useless if leaked without PSEUDONYM_KEY."""
    key = settings.PSEUDONYM_KEY.encode()
    message = f"{scope}\x1f{external_id.strip()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def annotator_for_external_id_hash(*, digest: str, recruitment: str) -> Annotator:
    """The annotator behind a hashed recruiter id, created on first arrival (race-safe)."""
    existing = Annotator.objects.filter(external_id_hash=digest).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            return Annotator.objects.create(
                code=secrets.token_hex(8), external_id_hash=digest, recruitment=recruitment
            )
    except IntegrityError:
        return Annotator.objects.get(external_id_hash=digest)


def annotator_create_anonymous() -> Annotator:
    return Annotator.objects.create(
        code=secrets.token_hex(8), recruitment=Annotator.Recruitment.LINK
    )


def covariates_record(
    *, annotator: Annotator, schema: CovariateSchema, answers: dict[str, object]
) -> CovariateResponse:
    """Store validated answers once; answers are research data and are never overwritten."""
    clean = covariates_validate(questions=schema.questions, answers=answers)
    response, _ = CovariateResponse.objects.get_or_create(
        annotator=annotator, schema=schema, defaults={"answers": clean}
    )
    return response


def consent_record(*, annotator: Annotator, scope: str, text: str) -> ConsentRecord:
    record, _ = ConsentRecord.objects.get_or_create(
        annotator=annotator, scope=scope, defaults={"text": text}
    )
    return record
