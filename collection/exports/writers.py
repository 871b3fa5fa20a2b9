"""Writers of a stream of Arrow tables: JSONL a line per row, Parquet a row group per
table (some 4,000 rows, a block of the source), each into a binary stream (the zip entry
of the bundle, through a BackgroundSink).

Timestamps arrive as ISO 8601 text (collection.exports.source): JSONL writes them as they
are, Parquet casts each table's text column to its timestamp type in Arrow.
"""

import queue
import threading
from collections.abc import Iterable
from typing import Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from collection.exports.columns import arrow_schema
from collection.exports.jsonl import jsonl_bytes, jsonl_pieces

Buffer = bytes | memoryview


class Sink(Protocol):
    """Where a writer puts its bytes: a file, a zip entry, a BackgroundSink."""

    def write(self, data: Buffer, /) -> int: ...


class BackgroundSink:
    """A binary stream whose bytes reach ``target`` from a second thread, in pieces of
    at least ``piece`` bytes: the zip entry deflates (and computes the CRC) with the GIL
    released, beside the rows being built instead of after them. At most ``queued``
    pieces wait, so memory stays bounded; a failure of the target is raised in the
    writing thread. Writes must not change afterwards (bytes, or a view of an Arrow
    buffer): a piece written whole is handed over without a copy."""

    def __init__(self, target: Sink, piece: int = 1 << 20, queued: int = 4):
        self._target, self._piece = target, piece
        self._pending: list[Buffer] = []
        self._size = self._written = 0
        self._queue: queue.Queue[Buffer | None] = queue.Queue(maxsize=queued)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="export-sink", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while (piece := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._target.write(piece)
                except BaseException as exc:  # handed to the writing thread
                    self._error = exc

    def _hand_over(self) -> None:
        if self._error is not None:
            raise self._error
        if self._pending:
            whole = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
            self._queue.put(whole)
            self._pending, self._size = [], 0

    def write(self, data: Buffer) -> int:
        data = memoryview(data)
        self._pending.append(data)
        self._size += len(data)
        self._written += len(data)
        if self._size >= self._piece:
            self._hand_over()
        return len(data)

    def tell(self) -> int:
        return self._written

    def flush(self) -> None:
        pass  # pieces are handed over by size; close() hands over the rest

    @property
    def closed(self) -> bool:
        return not self._thread.is_alive()

    def close(self) -> None:
        if self._thread.is_alive():
            self._hand_over()
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error

    def __enter__(self) -> "BackgroundSink":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_jsonl(tables: Iterable[pa.Table], out: Sink, fmt: str) -> int:
    # Tables come in codebook order (a test holds every format to it). Encoded in this
    # thread: two encoder threads were no faster on two cores (the reading, the database
    # and the deflating share them) and spent seconds in the kernel handing pages back.
    n = 0
    for table in tables:
        for piece in jsonl_pieces(table):
            out.write(jsonl_bytes(piece))
        n += table.num_rows
    return n


def write_parquet(tables: Iterable[pa.Table], out: Sink, fmt: str) -> int:
    # Tables come with timestamps as text; each is cast to the file's schema.
    schema = arrow_schema(fmt)
    n = 0
    # No min/max statistics for text: a reader never filters on an answer's text, and
    # the footer kept two whole answers per text column and row group in memory.
    statistics = [f.name for f in schema if not pa.types.is_string(f.type)]
    with pq.ParquetWriter(out, schema, compression="zstd", write_statistics=statistics) as writer:
        for table in tables:
            if table.num_rows:
                writer.write_table(table.cast(schema))
                n += table.num_rows
        if n == 0:
            writer.write_table(schema.empty_table())
    return n


WRITERS = {"jsonl": write_jsonl, "parquet": write_parquet}
