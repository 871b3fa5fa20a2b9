"""The recruitment loop's rules: codes, completion URLs and where a participant leaves to.

Pure functions (no database), so the models can validate with them and the views,
services and engine share one definition of each code.
"""

import base64
import hashlib
import hmac
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator

PROLIFIC_COMPLETION_URL = "https://app.prolific.com/submissions/complete?cc={code}"
CODE_SLOT = "{code}"

# The query Prolific fills in for each participant: what the researcher pastes into
# Prolific after the study's address (Prolific's own placeholder syntax).
PROLIFIC_QUERY = (
    "?PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
)

code_validator = RegexValidator(
    r"^[A-Za-z0-9_-]*$",
    "use letters, digits, '-' and '_' only (as the recruitment site shows the code)",
)


def completion_url_template_validate(value: str) -> None:
    """A blank template (no redirect) or an http(s) URL with one {code} slot."""
    if not value:
        return
    if value.count(CODE_SLOT) != 1:
        raise ValidationError(
            "put {code} exactly once where the code goes, e.g. "
            "https://app.prolific.com/submissions/complete?cc={code}; "
            "or leave it blank to show the code without redirecting"
        )
    try:
        URLValidator(schemes=["https", "http"])(value.replace(CODE_SLOT, "CODE"))
    except ValidationError:
        raise ValidationError(
            "this is not a web address; it must start with https:// (or http://), e.g. "
            "https://app.prolific.com/submissions/complete?cc={code}"
        ) from None


def exit_url(*, template: str, code: str) -> str | None:
    """The completion URL carrying ``code``; None when either is blank (no redirect)."""
    if not template or not code:
        return None
    # str.replace, not str.format: a URL may hold other braces.
    return template.replace(CODE_SLOT, quote(code, safe=""))


def exit_site(url: str) -> str:
    """The host a participant is sent to, named on the link ("Continue to ...")."""
    return urlsplit(url).hostname or url


def enrollment_code(*, study_id: int, enrollment_id: int) -> str:
    """A completion code of this enrollment's own, for studies without a shared code.

    Keyed with PSEUDONYM_KEY (kept for the life of the data), so it is never stored yet
    always the same for one enrollment, and nobody without the key can produce another
    participant's. 10 base32 characters: 50 bits.
    """
    message = f"completion\x1f{study_id}\x1f{enrollment_id}".encode()
    digest = hmac.new(settings.PSEUDONYM_KEY.encode(), message, hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:10]


def completion_code_for(*, study_code: str, study_id: int, enrollment_id: int) -> str:
    """The code an enrollment receives once its quota is met: the study's, or its own."""
    return study_code or enrollment_code(study_id=study_id, enrollment_id=enrollment_id)
