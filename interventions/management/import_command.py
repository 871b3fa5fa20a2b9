"""What the import commands share: opening the file (gzip or not), the --skip-invalid
and --report options, and how rejected rows are reported."""

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from django.core.management.base import BaseCommand, CommandError, CommandParser

from interventions.import_files import file_lines
from interventions.import_rows import ImportFailed, Line, RowError, report_csv

S = TypeVar("S")

SKIP_HINT = (
    "{n} rows are valid: re-run with --skip-invalid to import them and report the rest "
    "(add --report PATH to write the report as CSV)"
)


def add_import_options(parser: CommandParser) -> None:
    parser.add_argument("path", help="a .jsonl or .csv file, or the same gzipped (.gz)")
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the valid rows and report every rejected row with its line and reason "
        "(default: all or nothing, any invalid row imports nothing)",
    )
    parser.add_argument(
        "--report",
        metavar="PATH",
        help="write the rejected rows as CSV (line, reason) to PATH instead of printing them",
    )


def run_import(
    command: BaseCommand,
    *,
    path: str,
    report: str | None,
    do_import: Callable[[Iterable[Line]], S],
    invalid_rows: Callable[[S], tuple[RowError, ...]],
    describe: Callable[[S], str],
) -> None:
    """Run ``do_import`` on the file's lines, print ``describe(summary)``, and report
    rejected rows (to ``report`` or stdout) whether the import succeeded or not."""
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"{path}: no such file")
    with file.open("rb") as stream:
        try:
            summary = do_import(file_lines(stream, name=file.name))
        except ImportFailed as exc:
            if report and exc.row_errors:
                Path(report).write_text(report_csv(exc.row_errors), encoding="utf-8")
            lines = ["nothing was imported:", *exc.errors]
            if exc.skippable:
                lines.append(SKIP_HINT.format(n=exc.valid_rows))
            raise CommandError("\n".join(lines)) from exc
    command.stdout.write(describe(summary))
    rejected = invalid_rows(summary)
    if report:
        Path(report).write_text(report_csv(rejected), encoding="utf-8")
        if rejected:
            command.stdout.write(f"{len(rejected)} rows rejected; report written to {report}")
    elif rejected:
        command.stdout.write(f"{len(rejected)} rows rejected (not imported):")
        for error in rejected:
            command.stdout.write(str(error))
