"""Parse ready-made pairs before anything touches the database.

Formats (``PAIR_FORMATS``):

- ``pairs-jsonl`` / ``pairs-csv``: researcher-made pairs, fields ``prompt``, ``control``,
  ``treated``, ``intervention`` (and an optional ``prompt_id``);
- ``trl``: TRL preference rows, ``prompt``/``chosen``/``rejected`` as text, or in the
  conversational form (lists of ``{"role", "content"}`` messages);
- ``hh-rlhf``: Anthropic HH-RLHF rows, ``chosen``/``rejected`` transcripts of
  ``"\\n\\nHuman:"`` and ``"\\n\\nAssistant:"`` turns that share everything but the last
  answer.

For preference datasets the rejected answer is the control and the chosen one the
treated side. Every problem is collected with its line and field (rules in
``import_rows``); the caller decides whether the valid rows are imported anyway.
"""

import csv
import io
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from interventions.import_rows import (
    MAX_NAME_CHARS,
    ImportFailed,
    Line,
    OversizedLine,
    Parsed,
    RowError,
    json_lines,
    line_text,
    text_fields,
    text_problem,
    unique_ids,
)

PAIR_FORMATS = ("pairs-jsonl", "pairs-csv", "trl", "hh-rlhf")
_TURN = re.compile(r"\n\nAssistant:")
_NAME = re.compile(r"[-a-zA-Z0-9_+]+")
_NAME_RULE = "a name of letters, digits, '-' or '_' (e.g. 'length-longer')"


@dataclass(frozen=True)
class PairRow:
    line: int
    prompt_id: str
    prompt: str
    control: str
    treated: str
    intervention: str
    details: dict = field(default_factory=dict)


def _prompt_id(obj: dict, line: int, errors: list[RowError], *keys: str) -> str | None:
    """The row's own id (first of ``keys`` given), or one made from its line."""
    for key in keys:
        value = obj.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            errors.append(RowError(line, f"field '{key}' must be text or a whole number"))
            return None
        if problem := text_problem(str(value), key, limit=MAX_NAME_CHARS):
            errors.append(RowError(line, problem))
            return None
        return str(value).strip()
    return f"line-{line}"


def _researcher_row(obj: dict, line: int, errors: list[RowError], kind: str) -> PairRow | None:
    names = ("prompt", "control", "treated", "intervention")
    texts = text_fields(obj, names, line, errors)
    prompt_id = _prompt_id(obj, line, errors, "prompt_id")
    if texts is None or prompt_id is None:
        return None
    if texts["control"] == texts["treated"]:
        errors.append(
            RowError(line, "fields 'control' and 'treated' are identical; a pair must differ")
        )
        return None
    intervention = texts["intervention"].strip()
    if not _NAME.fullmatch(intervention) or len(intervention) > MAX_NAME_CHARS:
        errors.append(
            RowError(
                line,
                f"field 'intervention' {intervention[:80]!r} must be {_NAME_RULE}, "
                f"at most {MAX_NAME_CHARS} characters",
            )
        )
        return None
    return PairRow(
        line, prompt_id, texts["prompt"], texts["control"], texts["treated"], intervention,
        {"format": kind, "line": line},
    )  # fmt: skip


def _message_text(value: object, role: str) -> object:
    """Text of a TRL field: a string, or the last ``role`` message of a conversation
    (None when there is none)."""
    if isinstance(value, list) and all(isinstance(m, dict) for m in value):
        texts = [m.get("content") for m in value if m.get("role") == role]
        return texts[-1] if texts else None
    return value


def _trl_row(obj: dict, line: int, errors: list[RowError], intervention: str) -> PairRow | None:
    values: dict[str, str] = {}
    for name, role in (("prompt", "user"), ("chosen", "assistant"), ("rejected", "assistant")):
        if name not in obj:
            errors.append(
                RowError(line, f"field '{name}' is missing; TRL rows need prompt/chosen/rejected")
            )
            continue
        text = _message_text(obj[name], role)
        if text is None or isinstance(text, list | dict):
            errors.append(
                RowError(line, f"field '{name}' must be non-empty text or a list of messages "
                               f"with a '{role}' message")
            )  # fmt: skip
        elif problem := text_problem(text, name):
            errors.append(RowError(line, problem))
        else:
            values[name] = text  # type: ignore[assignment]
    prompt_id = _prompt_id(obj, line, errors, "prompt_id", "id")
    if len(values) < 3 or prompt_id is None:
        return None
    return PairRow(
        line, prompt_id, values["prompt"], values["rejected"], values["chosen"], intervention,
        {"format": "trl", "line": line, "treated_is": "chosen"},
    )  # fmt: skip


def _split_transcript(text: str, name: str) -> tuple[str, str] | str:
    """(dialogue before the last answer, last answer), or why the text is not a transcript."""
    text = "\n\n" + text.lstrip("\n")
    last = None
    for last in _TURN.finditer(text):  # noqa: B007 (the last match is the one wanted)
        pass
    if last is None or "\n\nHuman:" not in text[: last.start() + 1]:
        return (
            f"field '{name}' is not an HH-RLHF transcript; expected "
            "'\\n\\nHuman: ...\\n\\nAssistant: ...' ending with an assistant answer"
        )
    answer = text[last.end() :].strip()
    if not answer:
        return (
            f"field '{name}' ends with an empty Assistant answer; the last turn must be a "
            "non-empty answer (drop the row or complete the answer)"
        )
    return text[: last.start()].strip(), answer


def _hh_row(obj: dict, line: int, errors: list[RowError], intervention: str) -> PairRow | None:
    texts = text_fields(obj, ("chosen", "rejected"), line, errors)
    if texts is None:
        return None
    chosen, rejected = (_split_transcript(texts[n], n) for n in ("chosen", "rejected"))
    problems = [p for p in (chosen, rejected) if isinstance(p, str)]
    if problems:
        errors.extend(RowError(line, p) for p in problems)
        return None
    assert isinstance(chosen, tuple) and isinstance(rejected, tuple)
    if chosen[0] != rejected[0]:
        at = len(os.path.commonprefix([chosen[0], rejected[0]])) + 1
        errors.append(
            RowError(line, "fields 'chosen' and 'rejected' differ before the last answer "
                           f"(from character {at:,} of the dialogue); both must continue the "
                           "same conversation")
        )  # fmt: skip
        return None
    return PairRow(
        line, f"line-{line}", chosen[0], rejected[1], chosen[1], intervention,
        {"format": "hh-rlhf", "line": line, "treated_is": "chosen"},
    )  # fmt: skip


RowMaker = Callable[[dict, int, list[RowError]], PairRow | None]


def _jsonl_rows(lines: Iterable[Line], errors: list[RowError], make: RowMaker) -> list[PairRow]:
    return [row for line, obj in json_lines(lines, errors) if (row := make(obj, line, errors))]


def _lenient(raw: str | bytes) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


def _csv_rows(lines: Iterable[Line], errors: list[RowError]) -> list[PairRow]:
    """Rows of a CSV file. A line that cannot be read (not UTF-8, NUL, too long) rejects
    the record it belongs to: a quoted field may span lines, so the line alone cannot go."""
    texts = []
    for n, raw in enumerate(lines, start=1):
        text = line_text(raw, n, errors)
        if text is None:  # keep its quotes, so the records after it still parse
            text = "\n" if isinstance(raw, OversizedLine) else _lenient(raw)
        texts.append(text)
    bad_lines = {e.line for e in errors}
    if 1 in bad_lines:
        raise ImportFailed(
            ["line 1: the CSV header cannot be read; fix it first", *map(str, errors)]
        )
    reader = csv.DictReader(io.StringIO("".join(texts)))
    missing = {"prompt", "control", "treated", "intervention"} - set(reader.fieldnames or [])
    if missing:
        raise ImportFailed([f"line 1: the header lacks column(s) {', '.join(sorted(missing))}"])
    rows = []
    end = reader.line_num  # a quoted field may span lines: name the row's first line
    while True:
        try:
            obj = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(end + 1, f"the CSV record cannot be read ({exc})"))
            end = reader.line_num
            continue
        line, end = end + 1, reader.line_num
        if bad_lines.intersection(range(line, end + 1)):
            continue  # its unreadable line is already reported
        clean = {k: v for k, v in obj.items() if k is not None}
        if (row := _researcher_row(clean, line, errors, "pairs-csv")) is not None:
            rows.append(row)
    return rows


def _cell_name(intervention: str) -> str:
    name = intervention.strip() or "chosen"
    if not _NAME.fullmatch(name) or len(name) > MAX_NAME_CHARS:
        raise ImportFailed(
            [f"the intervention (cell) name {name[:80]!r} must be {_NAME_RULE}, at most "
             f"{MAX_NAME_CHARS} characters"]
        )  # fmt: skip
    return name


def pair_rows_parse(
    lines: Iterable[Line], *, format: str, intervention: str = ""
) -> Parsed[PairRow]:
    """Every valid row and every row error (a repeated prompt id is one). ``intervention``
    names the cell of preference-dataset rows (default 'chosen'). Raises ImportFailed for
    problems of the whole file (unknown format, unreadable CSV header)."""
    if format not in PAIR_FORMATS:
        raise ImportFailed([f"unknown format {format!r}; use one of {', '.join(PAIR_FORMATS)}"])
    errors: list[RowError] = []
    if format == "pairs-csv":
        rows = _csv_rows(lines, errors)
    elif format == "pairs-jsonl":
        rows = _jsonl_rows(lines, errors, lambda o, n, e: _researcher_row(o, n, e, format))
    else:
        name = _cell_name(intervention)
        make = _trl_row if format == "trl" else _hh_row
        rows = _jsonl_rows(lines, errors, lambda o, n, e: make(o, n, e, name))
    return Parsed(unique_ids(rows, errors), errors)
