"""Covariate questionnaires: schema checking and answer validation (no database)."""

from django.core.exceptions import ValidationError

QUESTION_TYPES = ("choice", "number", "text")


def schema_validate(questions: object) -> None:
    """Raise ValidationError naming the question that is malformed."""
    if not isinstance(questions, list) or not questions:
        raise ValidationError("questions must be a non-empty list of question objects")
    keys: set[str] = set()
    for i, q in enumerate(questions, start=1):
        if not isinstance(q, dict):
            raise ValidationError(f"question {i}: must be an object with key, label and type")
        for field in ("key", "label", "type"):
            if not isinstance(q.get(field), str) or not q[field].strip():
                raise ValidationError(f"question {i}: '{field}' is missing or empty")
        if q["type"] not in QUESTION_TYPES:
            raise ValidationError(
                f"question {i}: type '{q['type']}' is not one of {', '.join(QUESTION_TYPES)}"
            )
        if q["type"] == "choice" and (
            not isinstance(q.get("choices"), list) or len(q["choices"]) < 2
        ):
            raise ValidationError(f"question {i}: a choice question needs at least 2 choices")
        if q["key"] in keys:
            raise ValidationError(f"question {i}: key '{q['key']}' is used twice")
        keys.add(q["key"])


def covariates_validate(*, questions: list[dict], answers: dict[str, object]) -> dict[str, object]:
    """Return the answers cleaned to the schema's types, or raise ValidationError with
    one message per question that needs fixing."""
    errors: dict[str, str] = {}
    clean: dict[str, object] = {}
    for q in questions:
        key = q["key"]
        value = answers.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if q.get("required", True):
                errors[key] = f"'{q['label']}' needs an answer"
            continue
        if q["type"] == "choice":
            if value not in q["choices"]:
                errors[key] = f"'{value}' is not one of the offered answers"
            else:
                clean[key] = value
        elif q["type"] == "number":
            try:
                number = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                errors[key] = "must be a number"
                continue
            if "min" in q and number < q["min"] or "max" in q and number > q["max"]:
                errors[key] = f"must be between {q.get('min')} and {q.get('max')}"
            else:
                clean[key] = number
        else:
            clean[key] = str(value).strip()[:1000]
    if errors:
        raise ValidationError(errors)
    return clean
