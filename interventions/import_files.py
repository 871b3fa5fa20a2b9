"""Read an import file (a local path or an admin upload) as lines, gzip or not.

Datasets ship as ``.jsonl.gz`` (HH-RLHF does), so a gzip file is decompressed on the
fly, recognised by its magic bytes whatever its name. Lines are read with a bound, so a
pathological line is reported by its size instead of being held in memory, and an
upload can be limited in its decompressed size too (a small gzip can hold gigabytes).
"""

import gzip
import zlib
from collections.abc import Iterator
from typing import IO

from interventions.import_rows import MAX_LINE_BYTES, ImportFailed, Line, OversizedLine

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


def is_gzip(file: IO[bytes]) -> bool:
    head = file.read(2)
    file.seek(0)
    return head == GZIP_MAGIC


def file_lines(file: IO[bytes], *, name: str, max_bytes: int | None = None) -> Iterator[Line]:
    """The lines of ``file`` (bytes, or OversizedLine past MAX_LINE_BYTES), decompressed
    when it is gzip. Raises ImportFailed for a damaged gzip stream, a name ending in .gz
    on a file that is not gzip, or more than ``max_bytes`` of content."""
    if is_gzip(file):
        stream: IO[bytes] = gzip.GzipFile(fileobj=file, mode="rb")  # type: ignore[assignment]
    elif name.lower().endswith(".gz"):
        raise ImportFailed(
            [f"'{name}' is named .gz but is not gzip-compressed; rename it or compress it"]
        )
    else:
        stream = file
    try:
        yield from _bounded_lines(stream, max_bytes, name)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise ImportFailed(
            [f"the gzip data of '{name}' is damaged or cut short ({exc}); download "
             "or compress the file again"]
        ) from exc  # fmt: skip


def _bounded_lines(stream: IO[bytes], max_bytes: int | None, name: str) -> Iterator[Line]:
    total = 0
    while raw := stream.readline(MAX_LINE_BYTES + 1):
        total += len(raw)
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            size = len(raw)
            while raw and not raw.endswith(b"\n"):  # read past the rest of the line
                raw = stream.readline(_CHUNK)
                size += len(raw)
                total += len(raw)
                _limit(total, max_bytes, name)
            yield OversizedLine(size - raw.endswith(b"\n"))
            continue
        _limit(total, max_bytes, name)
        yield raw


def _limit(total: int, max_bytes: int | None, name: str) -> None:
    if max_bytes is not None and total > max_bytes:
        raise ImportFailed(
            [f"'{name}' holds more than {max_bytes:,} bytes (decompressed), over the "
             "IMPORT_MAX_BYTES limit of uploads; split it or use the management command"]
        )  # fmt: skip
