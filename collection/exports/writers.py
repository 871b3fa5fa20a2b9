"""Row writers: JSONL one line at a time, Parquet one row group per batch."""

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from collection.exports.columns import arrow_schema

# Rows per Parquet row group: large enough for fast columnar writes, small enough that
# one batch of long answers stays a few tens of MB.
BATCH = 5_000

_encode = json.JSONEncoder(ensure_ascii=False).encode


def write_jsonl(rows: Iterable[dict[str, object]], path: Path, fmt: str) -> int:
    # Rows are built in codebook order (a test holds every format to it), so they are
    # encoded as they come; only the timestamps need converting.
    stamps = [f.name for f in arrow_schema(fmt) if pa.types.is_timestamp(f.type)]
    n = 0
    with path.open("w", encoding="utf-8", buffering=1 << 20) as out:
        for row in rows:
            for k in stamps:
                value = row[k]
                if isinstance(value, dt.datetime):
                    row[k] = value.isoformat()
            out.write(_encode(row))
            out.write("\n")
            n += 1
    return n


def write_parquet(rows: Iterable[dict[str, object]], path: Path, fmt: str) -> int:
    schema = arrow_schema(fmt)
    names = schema.names
    n = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        batch: dict[str, list[object]] = {k: [] for k in names}
        size = 0
        for row in rows:
            for k in names:
                batch[k].append(row[k])
            size += 1
            if size == BATCH:
                writer.write_table(pa.Table.from_pydict(batch, schema=schema))
                n += size
                batch, size = {k: [] for k in names}, 0
        if size or n == 0:
            writer.write_table(pa.Table.from_pydict(batch, schema=schema))
            n += size
    return n


WRITERS = {"jsonl": write_jsonl, "parquet": write_parquet}
