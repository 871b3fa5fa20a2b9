"""Parse and validate prompt/response imports before anything touches the database.

The format is the one of ``arena_prompts.jsonl``: one JSON object per line with
``prompt_id``, ``prompt``, ``responses`` (model name -> text) and an optional
``category``. Validation collects every problem with its line number and field, so a
researcher can fix a file in one pass (the line-level rules are in ``import_rows``).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from interventions.import_rows import (
    MAX_NAME_CHARS,
    MAX_TEXT_CHARS,
    ImportFailed,
    Line,
    Parsed,
    RowError,
    json_lines,
    text_problem,
    unique_ids,
)

__all__ = ["ImportFailed", "PromptRow", "prompt_rows_parse"]

MAX_CATEGORY_CHARS = 100  # Prompt.category's max_length


@dataclass(frozen=True)
class PromptRow:
    line: int
    prompt_id: str
    category: str
    prompt: str
    responses: dict[str, str]


def _row_problems(obj: dict) -> list[str]:
    problems = []
    for field, limit in (("prompt_id", MAX_NAME_CHARS), ("prompt", MAX_TEXT_CHARS)):
        if field not in obj:
            problems.append(f"field '{field}' is missing; every line needs one")
        elif problem := text_problem(obj[field], field, limit=limit):
            problems.append(problem)
    category = obj.get("category") or ""
    if problem := category and text_problem(category, "category", limit=MAX_CATEGORY_CHARS):
        problems.append(problem)
    responses = obj.get("responses")
    if responses is None:
        problems.append("field 'responses' is missing; give {model name: answer}")
    elif not isinstance(responses, dict) or not responses:
        problems.append("field 'responses' must be a non-empty object {model: answer}")
    else:
        for model, text in responses.items():
            if not model.strip():
                problems.append("field 'responses' has an empty model name")
            elif problem := (
                text_problem(model, "responses (model name)", limit=MAX_NAME_CHARS)
                or text_problem(text, f"responses.{model}")
            ):
                problems.append(problem)
    return problems


def _prompt_row(obj: dict, line: int, errors: list[RowError]) -> PromptRow | None:
    problems = _row_problems(obj)
    if problems:
        errors.extend(RowError(line, p) for p in problems)
        return None
    return PromptRow(
        line=line,
        prompt_id=obj["prompt_id"].strip(),
        category=obj.get("category") or "",
        prompt=obj["prompt"],
        responses=dict(obj["responses"]),
    )


def prompt_rows_parse(lines: Iterable[Line]) -> Parsed[PromptRow]:
    """Every valid row and every row error (a repeated prompt id is one)."""
    errors: list[RowError] = []
    rows = [
        row
        for line, obj in json_lines(lines, errors)
        if (row := _prompt_row(obj, line, errors)) is not None
    ]
    return Parsed(unique_ids(rows, errors), errors)
