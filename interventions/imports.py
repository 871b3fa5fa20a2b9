"""Parse and validate prompt/response imports before anything touches the database.

The format is the one of ``arena_prompts.jsonl``: one JSON object per line with
``prompt_id``, ``prompt``, ``responses`` (model name -> text) and an optional
``category``. Validation collects every problem with its line number and field, so a
researcher can fix a file in one pass.
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

MAX_ERRORS_REPORTED = 50


class ImportFailed(Exception):
    """The file had problems; nothing was imported. ``errors`` lists each one."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        shown = errors[:MAX_ERRORS_REPORTED]
        more = len(errors) - len(shown)
        message = "; ".join(shown) + (f"; and {more} more problems" if more else "")
        super().__init__(f"nothing was imported: {message}")


@dataclass(frozen=True)
class PromptRow:
    line: int
    prompt_id: str
    category: str
    prompt: str
    responses: dict[str, str]


def _non_empty_string(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _row_errors(line_no: int, obj: object) -> list[str]:
    where = f"line {line_no}"
    if not isinstance(obj, dict):
        return [f"{where}: expected a JSON object, found {type(obj).__name__}"]
    errors = []
    for field in ("prompt_id", "prompt"):
        if field not in obj:
            errors.append(f"{where}: field '{field}' is missing; every line needs one")
        elif not _non_empty_string(obj[field]):
            errors.append(f"{where}: field '{field}' is empty; it must be non-empty text")
    if "category" in obj and not isinstance(obj["category"], str):
        errors.append(f"{where}: field 'category' must be text")
    responses = obj.get("responses")
    if responses is None:
        errors.append(f"{where}: field 'responses' is missing; give {{model name: answer}}")
    elif not isinstance(responses, dict) or not responses:
        errors.append(f"{where}: field 'responses' must be a non-empty object {{model: answer}}")
    else:
        for model, text in responses.items():
            if not model.strip():
                errors.append(f"{where}: field 'responses' has an empty model name")
            elif not _non_empty_string(text):
                errors.append(
                    f"{where}: field 'responses.{model}' is empty; every response needs text"
                )
    return errors


def line_text(raw: str | bytes, line: int, errors: list[str]) -> str | None:
    """The line as text, or None (with an error recorded) when it is not UTF-8."""
    try:
        return raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        errors.append(f"line {line}: not UTF-8 text ({exc.reason}); save the file as UTF-8")
        return None


def json_lines(lines: Iterable[str | bytes], errors: list[str]) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) of each non-blank JSON line; lines that are not UTF-8
    or not JSON are recorded in ``errors`` and skipped, so every problem is reported."""
    for line, raw in enumerate(lines, start=1):
        text = line_text(raw, line, errors)
        if text is None or not text.strip():
            continue
        try:
            yield line, json.loads(text)
        except json.JSONDecodeError as exc:
            errors.append(f"line {line}: invalid JSON ({exc.msg} at column {exc.colno})")


def prompt_rows_parse(lines: Iterable[str | bytes]) -> list[PromptRow]:
    """Parse every line; raise ImportFailed listing every problem, or return all rows."""
    rows: list[PromptRow] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for line_no, obj in json_lines(lines, errors):
        row_errors = _row_errors(line_no, obj)
        if row_errors:
            errors.extend(row_errors)
            continue
        prompt_id = obj["prompt_id"].strip()
        if prompt_id in seen:
            errors.append(
                f"line {line_no}: field 'prompt_id' repeats '{prompt_id}' from line "
                f"{seen[prompt_id]}; ids must be unique"
            )
            continue
        seen[prompt_id] = line_no
        rows.append(
            PromptRow(
                line=line_no,
                prompt_id=prompt_id,
                category=obj.get("category", ""),
                prompt=obj["prompt"],
                responses=dict(obj["responses"]),
            )
        )
    if errors:
        raise ImportFailed(errors)
    if not rows:
        raise ImportFailed(["the file has no rows; expected one JSON object per line"])
    return rows
