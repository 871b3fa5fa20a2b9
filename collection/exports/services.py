"""Export services: ask for an export, build it (on a worker), write it (anywhere).

``export_request`` is what the admin and the API call; ``export_build`` is what the
worker runs; ``export_write`` produces the bundle and is also used by the management
command. The bundle is one zip: the data file, ``codebook.json`` and ``DATACARD.md``,
so a dataset never travels without its documentation.
"""

import hashlib
import json
import logging
import secrets
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.compute as pc
from celery import current_app
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from isal import isal_zlib

from collection.exports.columns import (
    FORMATS,
    LABEL_FORMATS,
    PRETEST_FORMATS,
    TIMESTAMP,
    codebook,
    columns,
)
from collection.exports.datacard import datacard
from collection.exports.formats import SHAPERS
from collection.exports.source import CHUNK, Counts, Filters, label_tables, pretest_answer_rows
from collection.exports.writers import WRITERS, BackgroundSink
from collection.models import Export, Study

logger = logging.getLogger(__name__)

BUILD_TASK = "analysis.export_build"
OPTION_KEYS = (
    "exclude_ties",
    "exclude_attention_checks",
    "exclude_attention_failures",
    "min_attention_share",
)


class ExportInvalid(ValueError):
    """A request that cannot be exported; the message says what to change."""


def exports_dir() -> Path:
    path = Path(settings.VAR_DIR) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_options_clean(options: dict[str, object]) -> dict[str, object]:
    """The options with only known keys and checked values, or ExportInvalid."""
    unknown = sorted(set(options) - set(OPTION_KEYS))
    if unknown:
        raise ExportInvalid(
            f"unknown export option(s) {', '.join(unknown)}; known: {', '.join(OPTION_KEYS)}"
        )
    clean: dict[str, object] = {}
    for key in OPTION_KEYS[:3]:
        value = options.get(key, False)
        if not isinstance(value, bool):
            raise ExportInvalid(f"option {key} must be true or false, found {value!r}")
        clean[key] = value
    share = options.get("min_attention_share")
    if share is not None and (
        isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1
    ):
        raise ExportInvalid(
            f"option min_attention_share must be a number from 0 to 1, found {share!r}"
        )
    clean["min_attention_share"] = None if share is None else float(share)
    return clean


def _check(study: Study, fmt: str, file_format: str) -> None:
    if fmt not in FORMATS:
        raise ExportInvalid(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    pretest = study.kind == Study.Kind.PRETEST
    if pretest != (fmt in PRETEST_FORMATS):
        usable = PRETEST_FORMATS if pretest else LABEL_FORMATS
        raise ExportInvalid(
            f"format {fmt!r} does not fit a {study.get_kind_display()} study; use one of "
            + ", ".join(usable)
        )
    if file_format not in WRITERS:
        raise ExportInvalid(f"unknown file format {file_format!r}; use one of {', '.join(WRITERS)}")


def export_request(
    *,
    study: Study,
    requested_by: User | None,
    format: str,
    file_format: str,
    options: dict[str, object] | None = None,
) -> Export:
    """Record an export and queue its build once the record commits. The caller has
    checked that ``requested_by`` may read the study (collection.access)."""
    _check(study, format, file_format)
    clean = export_options_clean(options or {})
    with transaction.atomic():
        export = Export.objects.create(
            study=study,
            requested_by=requested_by,
            format=format,
            file_format=file_format,
            options=clean,
        )
        transaction.on_commit(lambda: _enqueue(export.pk))
    return export


def _enqueue(export_id: int) -> None:
    try:
        current_app.send_task(BUILD_TASK, args=[export_id])
    except Exception as exc:  # a broker outage: the record says so instead of waiting forever
        logger.exception("could not enqueue %s for export %s", BUILD_TASK, export_id)
        Export.objects.filter(pk=export_id, status=Export.Status.QUEUED).update(
            status=Export.Status.FAILED,
            error=f"the export could not be queued ({exc}); ask again later",
            finished_at=timezone.now(),
        )


@dataclass(frozen=True)
class Written:
    path: Path
    rows: int
    counts: dict[str, object]
    sha256: str


def _tables(study: Study, fmt: str, filters: Filters, counts: Counts) -> Iterator[pa.Table]:
    """The export's rows as Arrow tables in codebook order, timestamps as text."""
    if fmt in PRETEST_FORMATS:
        schema = pa.schema(
            [(c.name, pa.string() if c.type == TIMESTAMP else c.type) for c in columns(fmt)]
        )
        rows = pretest_answer_rows(study=study)
        while batch := list(islice(rows, CHUNK)):
            yield pa.Table.from_pylist(batch, schema=schema)
        return
    shape = SHAPERS[fmt]
    for labels in label_tables(study=study, filters=filters, counts=counts):
        table = shape(labels, study.slug)
        ties = labels.filter(pc.equal(labels["choice"], "tie"))["label_id"]
        with_rows = pc.is_in(ties, table["label_id"])
        counts.ties_without_rows += len(ties) - with_rows.combine_chunks().true_count
        yield table


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _deflate_with_isal(entry: IO[bytes]) -> None:
    """Deflate the zip entry with ISA-L instead of zlib: the same raw deflate stream (any
    unzip reads it), 20 times faster at level 1 on exported text, where zlib took a core
    for a second per 600 MB. zipfile has no public hook for its compressor; where the
    private attribute is missing (another Python), zlib stays."""
    if getattr(entry, "_compressor", None) is not None:
        entry._compressor = isal_zlib.compressobj(1, isal_zlib.DEFLATED, -15)  # type: ignore[attr-defined]


def export_write(
    *,
    study: Study,
    format: str,
    file_format: str,
    options: dict[str, object],
    out: Path,
    estimates_markdown: str | None = None,
) -> Written:
    """Write the zip bundle (data file, codebook.json, DATACARD.md) to ``out``, streaming
    the labels: memory stays that of one database chunk and one row group."""
    _check(study, format, file_format)
    clean = export_options_clean(options)
    counts = Counts()
    data_name = f"{study.slug}-{format}.{file_format}"
    # Parquet is compressed already; JSONL compresses several-fold.
    method = zipfile.ZIP_STORED if file_format == "parquet" else zipfile.ZIP_DEFLATED
    # Level 1: most of the size gain of deflate at a fraction of its time. The data is
    # written straight into its zip entry; deflated by a second thread as it comes.
    with zipfile.ZipFile(out, "w", compression=method, compresslevel=1, allowZip64=True) as bundle:
        with bundle.open(data_name, "w", force_zip64=True) as entry:
            source = _tables(study, format, Filters.from_options(clean), counts)
            if method == zipfile.ZIP_STORED:
                rows = WRITERS[file_format](source, entry, format)
            else:
                _deflate_with_isal(entry)
                with BackgroundSink(entry) as sink:
                    rows = WRITERS[file_format](source, sink, format)
        summary = counts.as_dict()
        card = datacard(
            study=study,
            fmt=format,
            file_format=file_format,
            options=clean,
            counts=summary,
            rows=rows,
            estimates_markdown=estimates_markdown,
        )
        bundle.writestr("codebook.json", json.dumps(codebook(format), indent=2) + "\n")
        bundle.writestr("DATACARD.md", card)
    return Written(path=out, rows=rows, counts=summary, sha256=_sha256(out))


def export_build(*, export_id: int, estimates_markdown: str | None = None) -> Export:
    """Build a queued export (the worker's job). A failure is recorded on the export
    with its reason; a finished export is never rebuilt."""
    updated = Export.objects.filter(pk=export_id, status=Export.Status.QUEUED).update(
        status=Export.Status.RUNNING
    )
    export = Export.objects.select_related("study").get(pk=export_id)
    if not updated:
        return export
    name = secrets.token_urlsafe(24) + ".zip"
    try:
        written = export_write(
            study=export.study,
            format=export.format,
            file_format=export.file_format,
            options=export.options,
            out=exports_dir() / name,
            estimates_markdown=estimates_markdown,
        )
    except Exception as exc:
        logger.exception("export %s failed", export_id)
        (exports_dir() / name).unlink(missing_ok=True)
        export.status, export.error = Export.Status.FAILED, f"{type(exc).__name__}: {exc}"
    else:
        export.status, export.file_name = Export.Status.DONE, name
        export.rows, export.counts, export.sha256 = written.rows, written.counts, written.sha256
        export.labels = int(written.counts["exported"])  # type: ignore[call-overload]
    export.finished_at = timezone.now()
    export.save()
    return export


def export_file(export: Export) -> Path | None:
    """The bundle of a finished export, or None."""
    if export.status != Export.Status.DONE or not export.file_name:
        return None
    path = exports_dir() / export.file_name
    return path if path.is_file() else None
