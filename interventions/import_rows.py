"""Line-level rules shared by every import: limits, JSON lines, text fields, row errors.

A problem with one row is a ``RowError`` (its line and a reason that says what to fix);
the parsers collect every one, so a file is fixed in one pass. Whether the valid rows
are imported anyway is the caller's choice (``rows_accepted``): all or nothing by default,
or the valid rows plus a report of the rest. Limits keep one pathological row (a
200,000-character answer, JSON nested thousands deep, a NUL that PostgreSQL refuses)
from failing the request or the pages that later show it.
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

MAX_LINE_BYTES = 1_000_000
MAX_TEXT_CHARS = 100_000
MAX_NAME_CHARS = 200  # ids, model and intervention names: the columns' max_length
MAX_JSON_DEPTH = 64
MAX_ERRORS_REPORTED = 50

T = TypeVar("T")


class _IdentifiedRow(Protocol):
    @property
    def line(self) -> int: ...

    @property
    def prompt_id(self) -> str: ...


R = TypeVar("R", bound=_IdentifiedRow)


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class ImportFailed(Exception):
    """Nothing was imported. ``errors`` lists each problem as text; ``row_errors`` holds
    the ones that concern a single row, and ``valid_rows`` counts the rows that would be
    imported with the option to skip invalid rows (0 when the file itself is at fault)."""

    def __init__(self, errors: Sequence[str | RowError], *, valid_rows: int = 0):
        self.errors = [str(e) for e in errors]
        self.row_errors = [e for e in errors if isinstance(e, RowError)]
        self.valid_rows = valid_rows
        shown = self.errors[:MAX_ERRORS_REPORTED]
        more = len(self.errors) - len(shown)
        message = "; ".join(shown) + (f"; and {more} more problems" if more else "")
        super().__init__(f"nothing was imported: {message}")

    @property
    def skippable(self) -> bool:
        """Only rows were at fault and some were valid: skipping the rest would import."""
        return (
            bool(self.row_errors)
            and len(self.row_errors) == len(self.errors)
            and (self.valid_rows > 0)
        )


@dataclass(frozen=True)
class OversizedLine:
    """A line longer than MAX_LINE_BYTES, read past rather than held in memory."""

    size: int


Line = str | bytes | OversizedLine


@dataclass
class Parsed(Generic[T]):
    rows: list[T]
    errors: list[RowError]


def rows_accepted(parsed: Parsed[T], *, skip_invalid: bool) -> list[T]:
    """The rows to import: all of them when every row is valid; the valid ones when
    ``skip_invalid``; otherwise ImportFailed listing every row error."""
    errors = sorted(parsed.errors, key=lambda e: e.line)
    if errors and (not skip_invalid or not parsed.rows):
        raise ImportFailed(errors, valid_rows=len(parsed.rows))
    if not parsed.rows:
        raise ImportFailed(["the file has no rows; expected one JSON object per line"])
    return parsed.rows


def report_csv(errors: Iterable[RowError]) -> str:
    """The rejected rows as CSV (line, reason), for a researcher to fix or keep."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["line", "reason"])
    writer.writerows((e.line, e.reason) for e in errors)
    return out.getvalue()


def line_text(raw: Line, line: int, errors: list[RowError]) -> str | None:
    """The line as text, or None (with the reason recorded) when it is too long, not
    UTF-8, or holds a NUL byte."""
    if isinstance(raw, OversizedLine):
        errors.append(
            RowError(line, f"the line is {raw.size:,} bytes long; the limit is "
                           f"{MAX_LINE_BYTES:,} bytes per line")
        )  # fmt: skip
        return None
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        errors.append(
            RowError(line, f"not UTF-8 text ({exc.reason} at byte {exc.start + 1}); save "
                           "the file as UTF-8")
        )  # fmt: skip
        return None
    if "\x00" in text:
        errors.append(RowError(line, "the line contains a NUL byte; remove it"))
        return None
    return text


def _depth_exceeded(value: object) -> bool:
    """Whether a parsed value nests deeper than MAX_JSON_DEPTH (walked without recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def json_lines(lines: Iterable[Line], errors: list[RowError]) -> Iterator[tuple[int, dict]]:
    """(line number, object) of each non-blank line that is a JSON object; every other
    line is recorded in ``errors`` with its reason and skipped, so every problem is
    reported."""
    for line, raw in enumerate(lines, start=1):
        text = line_text(raw, line, errors)
        if text is None or not text.strip():
            continue
        try:
            value: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            errors.append(RowError(line, f"invalid JSON ({exc.msg} at column {exc.colno})"))
            continue
        except RecursionError:
            value = None  # nested far deeper than the limit: reported below
        if value is None or _depth_exceeded(value):
            errors.append(
                RowError(line, f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels; "
                               "rows are flat objects of text fields")
            )  # fmt: skip
        elif not isinstance(value, dict):
            errors.append(RowError(line, f"expected a JSON object, found {_kind(value)}"))
        else:
            yield line, value


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    return "a list" if isinstance(value, list) else type(value).__name__


def text_problem(value: object, name: str, *, limit: int = MAX_TEXT_CHARS) -> str | None:
    """Why ``value`` is not acceptable non-empty text for field ``name``, or None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return f"field '{name}' is empty; it must be non-empty text"
    if not isinstance(value, str):
        return f"field '{name}' must be text, found {_kind(value)}"
    if "\x00" in value:
        return f"field '{name}' contains a NUL character (\\u0000); remove it"
    if len(value) > limit:
        return f"field '{name}' is {len(value):,} characters long; the limit is {limit:,}"
    return None


def text_fields(
    obj: dict, names: Sequence[str], line: int, errors: list[RowError]
) -> dict[str, str] | None:
    """The named fields of a row as text, or None with every problem recorded."""
    problems = [
        text_problem(obj[name], name)
        if name in obj
        else f"field '{name}' is missing; every row needs one"
        for name in names
    ]
    errors.extend(RowError(line, p) for p in problems if p)
    return None if any(problems) else {name: obj[name] for name in names}


def unique_ids(rows: list[R], errors: list[RowError]) -> list[R]:
    """The rows whose prompt id did not appear on an earlier line; repeats are row errors."""
    seen: dict[str, int] = {}
    kept = []
    for row in rows:
        if row.prompt_id in seen:
            errors.append(
                RowError(row.line, f"field 'prompt_id' repeats '{row.prompt_id}' from line "
                                   f"{seen[row.prompt_id]}; ids must be unique")
            )  # fmt: skip
            continue
        seen[row.prompt_id] = row.line
        kept.append(row)
    return kept
