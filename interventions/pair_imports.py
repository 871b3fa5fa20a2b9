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
treated side. Every problem is collected with its line and field.
"""

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from interventions.imports import ImportFailed, json_lines, line_text

PAIR_FORMATS = ("pairs-jsonl", "pairs-csv", "trl", "hh-rlhf")
_TURN = re.compile(r"\n\nAssistant:")


@dataclass(frozen=True)
class PairRow:
    line: int
    prompt_id: str
    prompt: str
    control: str
    treated: str
    intervention: str
    details: dict = field(default_factory=dict)


def _required(obj: dict, names: tuple[str, ...], where: str, errors: list[str]) -> bool:
    ok = True
    for name in names:
        if name not in obj:
            errors.append(f"{where}: field '{name}' is missing; every row needs one")
            ok = False
        elif not isinstance(obj[name], str) or not obj[name].strip():
            errors.append(f"{where}: field '{name}' is empty; it must be non-empty text")
            ok = False
    return ok


def _researcher_row(obj: dict, line: int, errors: list[str], kind: str) -> PairRow | None:
    where = f"line {line}"
    if not _required(obj, ("prompt", "control", "treated", "intervention"), where, errors):
        return None
    if obj["control"] == obj["treated"]:
        errors.append(f"{where}: fields 'control' and 'treated' are identical; a pair must differ")
        return None
    if not re.fullmatch(r"[-a-zA-Z0-9_+]+", obj["intervention"].strip()):
        errors.append(
            f"{where}: field 'intervention' {obj['intervention']!r} must be a name of letters, "
            "digits, '-' or '_' (e.g. 'length-longer')"
        )
        return None
    prompt_id = str(obj.get("prompt_id") or f"line-{line}")
    return PairRow(
        line,
        prompt_id,
        obj["prompt"],
        obj["control"],
        obj["treated"],
        obj["intervention"].strip(),
        {"format": kind, "line": line},
    )


def _message_text(value: object, role: str) -> str | None:
    """Text of a TRL field: a string, or the last ``role`` message of a conversation."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(m, dict) for m in value):
        texts = [m.get("content") for m in value if m.get("role") == role]
        return texts[-1] if texts and isinstance(texts[-1], str) else None
    return None


def _trl_row(obj: dict, line: int, errors: list[str], intervention: str) -> PairRow | None:
    where = f"line {line}"
    values = {}
    for name, role in (("prompt", "user"), ("chosen", "assistant"), ("rejected", "assistant")):
        if name not in obj:
            errors.append(
                f"{where}: field '{name}' is missing; TRL rows need prompt/chosen/rejected"
            )
            continue
        text = _message_text(obj[name], role)
        if text is None or not text.strip():
            errors.append(
                f"{where}: field '{name}' must be non-empty text or a list of messages with "
                f"a '{role}' message"
            )
            continue
        values[name] = text
    if len(values) < 3:
        return None
    return PairRow(
        line,
        str(obj.get("prompt_id") or obj.get("id") or f"line-{line}"),
        values["prompt"],
        values["rejected"],
        values["chosen"],
        intervention,
        {"format": "trl", "line": line, "treated_is": "chosen"},
    )


def _split_transcript(text: str) -> tuple[str, str] | None:
    turns = list(_TURN.finditer(text))
    if not turns or "\n\nHuman:" not in text[: turns[-1].start() + 1]:
        return None
    last = turns[-1]
    return text[: last.start()].strip(), text[last.end() :].strip()


def _hh_row(obj: dict, line: int, errors: list[str], intervention: str) -> PairRow | None:
    where = f"line {line}"
    if not _required(obj, ("chosen", "rejected"), where, errors):
        return None
    parts = {}
    for name in ("chosen", "rejected"):
        split = _split_transcript("\n\n" + obj[name].lstrip("\n"))
        if split is None or not split[1]:
            errors.append(
                f"{where}: field '{name}' is not an HH-RLHF transcript; expected "
                "'\\n\\nHuman: ...\\n\\nAssistant: ...' ending with an assistant answer"
            )
            return None
        parts[name] = split
    if parts["chosen"][0] != parts["rejected"][0]:
        errors.append(
            f"{where}: fields 'chosen' and 'rejected' differ before the last answer; both "
            "must continue the same conversation"
        )
        return None
    return PairRow(
        line,
        f"line-{line}",
        parts["chosen"][0],
        parts["rejected"][1],
        parts["chosen"][1],
        intervention,
        {"format": "hh-rlhf", "line": line, "treated_is": "chosen"},
    )


def _jsonl_rows(lines, errors, make) -> list[PairRow]:
    rows = []
    for line, obj in json_lines(lines, errors):
        if not isinstance(obj, dict):
            errors.append(f"line {line}: expected a JSON object, found {type(obj).__name__}")
        elif (row := make(obj, line)) is not None:
            rows.append(row)
    return rows


def _csv_rows(lines, errors) -> list[PairRow]:
    decoded = [line_text(raw, n, errors) for n, raw in enumerate(lines, start=1)]
    if errors:
        return []
    reader = csv.DictReader(io.StringIO("".join(t for t in decoded if t is not None)))
    missing = {"prompt", "control", "treated", "intervention"} - set(reader.fieldnames or [])
    if missing:
        errors.append(f"line 1: the header lacks column(s) {', '.join(sorted(missing))}")
        return []
    rows = []
    end = reader.line_num  # a quoted field may span lines: name the row's first line
    for obj in reader:
        line, end = end + 1, reader.line_num
        clean = {k: v for k, v in obj.items() if k is not None}
        if (row := _researcher_row(clean, line, errors, "pairs-csv")) is not None:
            rows.append(row)
    return rows


def pair_rows_parse(
    lines: Iterable[str | bytes], *, format: str, intervention: str = ""
) -> list[PairRow]:
    """Parse every row; raise ImportFailed listing every problem, or return all rows.
    ``intervention`` names the cell of preference-dataset rows (default 'chosen')."""
    if format not in PAIR_FORMATS:
        raise ImportFailed([f"unknown format {format!r}; use one of {', '.join(PAIR_FORMATS)}"])
    errors: list[str] = []
    name = intervention.strip() or "chosen"
    if format == "pairs-csv":
        rows = _csv_rows(list(lines), errors)
    elif format == "pairs-jsonl":
        rows = _jsonl_rows(lines, errors, lambda o, n: _researcher_row(o, n, errors, format))
    elif format == "trl":
        rows = _jsonl_rows(lines, errors, lambda o, n: _trl_row(o, n, errors, name))
    else:
        rows = _jsonl_rows(lines, errors, lambda o, n: _hh_row(o, n, errors, name))
    seen: dict[str, int] = {}
    for row in rows:
        if row.prompt_id in seen:
            errors.append(
                f"line {row.line}: field 'prompt_id' repeats '{row.prompt_id}' from line "
                f"{seen[row.prompt_id]}; ids must be unique"
            )
        seen.setdefault(row.prompt_id, row.line)
    if errors:
        raise ImportFailed(errors)
    if not rows:
        raise ImportFailed(["the file has no rows"])
    return rows
