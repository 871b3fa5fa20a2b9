"""JSON Lines from an Arrow table without a Python object per value.

Each column becomes a column of JSON texts, and Arrow joins them into one line per row.
Every distinct string is encoded once by orjson (escaping as orjson does: UTF-8 as is);
answers and prompts repeat over hundreds of labels, so that is a few hundred calls per
batch instead of one per value. Numbers take Arrow's shortest round-trip text, with
``.0`` kept on whole floats so that a reader types the column as float; NaN is null, as
orjson writes it. Lists are the conversational format's turns: one struct per row.

Runs of adjacent columns that repeat (a pair's three texts, a design's name and
version) are written once per distinct combination of their values in a batch, keys
included, so that a row joins a few texts instead of one per key and value.
"""

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

_NULL = pa.scalar("null", pa.string())
PIECE = 1024


def _escaping_needed(column: pa.Array) -> bool:
    """Whether a value holds what orjson escapes (quotes, backslashes, control
    characters): one pass over the text bytes."""
    if len(column) == 0:
        return False
    if not pa.types.is_string(column.type):
        return True  # not plain 32-bit offsets (large_string): orjson decides
    _, offsets, data = column.buffers()
    if data is None:
        return False
    bounds = np.frombuffer(offsets, np.int32)[column.offset : column.offset + len(column) + 1]
    text = np.frombuffer(data, np.uint8)[bounds[0] : bounds[-1]]
    return bool(((text < 0x20) | (text == 0x22) | (text == 0x5C)).any())


def _json_texts(values: pa.Array) -> pa.Array:
    """orjson's text of each value: for distinct values (a dictionary), once each."""
    return pa.array([orjson.dumps(v).decode() for v in values.to_pylist()], pa.string())


def _strings(column: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(column.type):
        used = _used(column)
        return pc.take(_json_texts(used.dictionary), used.indices)
    if not _escaping_needed(column):
        # Nothing orjson would escape (timestamps, codes): the text in quotes.
        return pc.binary_join_element_wise('"', column, '"', "")
    encoded = pc.dictionary_encode(column)
    return pc.take(_json_texts(encoded.dictionary), encoded.indices)


def _floats(column: pa.Array) -> pa.Array:
    text = pc.cast(column, pa.string())
    whole = pc.invert(pc.match_substring_regex(text, r"[.e]|n"))  # inf and nan have an n
    text = pc.if_else(whole, pc.binary_join_element_wise(text, ".0", ""), text)
    finite = pc.is_finite(column)
    return pc.if_else(finite, text, pa.scalar(None, pa.string()))


def _objects(names: list[str], values: list[pa.Array], end: str) -> pa.Array:
    """One JSON object per row from the JSON texts of each key's values, then ``end``."""
    pieces: list[pa.Array | str] = []
    for i, (name, value) in enumerate(zip(names, values, strict=True)):
        pieces += [_key(name, first=i == 0), _filled(value)]
    return pc.binary_join_element_wise(*pieces, end, "")


def _structs(column: pa.StructArray) -> pa.Array:
    names = [column.type.field(i).name for i in range(column.type.num_fields)]
    return _objects(names, [fragments(column.field(i)) for i in range(len(names))], "}")


def _lists(column: pa.ListArray) -> pa.Array:
    offsets = column.offsets.to_numpy()
    if len(offsets) > 1 and not ((offsets[1:] - offsets[:-1]) == 1).all():
        raise ValueError("only lists of one element per row are written (a turn per row)")
    return pc.binary_join_element_wise("[", _structs(column.flatten()), "]", "")


def fragments(column: pa.Array) -> pa.Array:
    """The JSON text of every value of ``column`` (null where the value is null)."""
    t = column.type
    if pa.types.is_string(t) or pa.types.is_dictionary(t):
        return _strings(column)
    if pa.types.is_boolean(t):
        return pc.if_else(column, "true", "false")
    if pa.types.is_integer(t):
        return pc.cast(column, pa.string())
    if pa.types.is_floating(t):
        return _floats(column)
    if pa.types.is_list(t):
        return _lists(column)
    raise TypeError(f"no JSON text for Arrow type {t}")


def _filled(fragment: pa.Array) -> pa.Array:
    return pc.fill_null(fragment, _NULL) if fragment.null_count else fragment


def jsonl_bytes(table: pa.Table) -> memoryview:
    """The table as JSON Lines: one object per row, keys in column order (a view of the
    Arrow buffer that holds them). A column marked keyed (jsonl_pieces) holds its keys
    and values already."""
    if table.num_rows == 0:
        return memoryview(b"")
    parts: list[pa.Array | str] = []
    for i, (field, column) in enumerate(zip(table.schema, table.columns, strict=True)):
        whole = column.combine_chunks()
        if field.metadata == _KEYED:
            parts.append(whole.dictionary_decode())
        else:
            parts += [_key(field.name, first=i == 0), _filled(fragments(whole))]
    lines = pc.binary_join_element_wise(*parts, "}\n", "")
    # The lines lie end to end in the array's data buffer: it is the file's bytes.
    _, offsets, data = lines.buffers()
    bounds = np.frombuffer(offsets, np.int32)[lines.offset : lines.offset + len(lines) + 1]
    return memoryview(data.slice(int(bounds[0]), int(bounds[-1] - bounds[0])))


def _key(name: str, first: bool) -> str:
    return ("{" if first else ",") + orjson.dumps(name).decode() + ":"


# A column with at most one distinct value in this many rows (a design's name, a
# propensity, an annotator's covariates, a stimulus's texts) is encoded value by value
# once per table; the others (ids, timestamps, rationales) piece by piece.
_REPETITIVE = 8
# The field metadata of a column whose values are the JSON text of keys and values.
_KEYED = {b"json": b"keyed"}


def _used(column: pa.DictionaryArray) -> pa.DictionaryArray:
    """The dictionary column, its dictionary cut to the entries its rows use where it
    holds more than there are rows (a large stimulus set)."""
    if len(column.dictionary) <= len(column):
        return column
    used = pc.unique(column.indices).drop_null()
    return pa.DictionaryArray.from_arrays(
        pc.index_in(column.indices, value_set=used), column.dictionary.take(used)
    )


def _dictionary(column: pa.Array) -> pa.DictionaryArray | None:
    """The column as a dictionary array where that saves encoding, else None."""
    if pa.types.is_dictionary(column.type):
        return _used(column)
    t = column.type
    if not (
        pa.types.is_string(t)
        or pa.types.is_floating(t)
        or pa.types.is_integer(t)
        or pa.types.is_boolean(t)
    ):
        return None
    encoded = pc.dictionary_encode(column)
    return encoded if len(encoded.dictionary) * _REPETITIVE <= len(column) else None


def _distinct(column: pa.Array) -> tuple[np.ndarray, pa.Array] | None:
    """(codes, texts) of a repetitive column: each row's index into the JSON texts of
    its distinct values, null the last one; None if the column is not repetitive."""
    encoded = _dictionary(column)
    if encoded is None:
        return None
    values = encoded.dictionary
    json = _json_texts(values) if pa.types.is_string(values.type) else fragments(values)
    texts = pa.concat_arrays([_filled(json), pa.array(["null"], pa.string())])
    codes = pc.fill_null(encoded.indices, len(texts) - 1).to_numpy(zero_copy_only=False)
    return codes.astype(np.int64), texts


def _compact(codes: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """(distinct, inverse) of non-negative codes below ``bound``, as np.unique gives
    them; by a table of ``bound`` flags where that is small, which is most of the time."""
    if bound > 8 * len(codes):
        return np.unique(codes, return_inverse=True)
    present = np.zeros(bound, bool)
    present[codes] = True
    return np.flatnonzero(present), (np.cumsum(present) - 1)[codes]


class _Run:
    """Adjacent repetitive columns written as one: the JSON text of their keys and
    values for each distinct combination the rows hold (the three texts of a pair, the
    four attributes of its intervention), so a row joins one text instead of eight."""

    def __init__(self, name: str, codes: np.ndarray, texts: pa.Array):
        distinct, self.inverse = _compact(codes, len(texts))
        self.members = [distinct]
        self.names, self.texts = [name], [texts]

    def extend(self, name: str, codes: np.ndarray, texts: pa.Array) -> bool:
        """Take in the next column, unless the combinations stop being repetitive."""
        n = len(self.members[0])
        distinct, inverse = _compact(self.inverse * len(texts) + codes, n * len(texts))
        if len(distinct) * _REPETITIVE > len(codes):
            return False
        self.members = [m[distinct // len(texts)] for m in self.members]
        self.members.append(distinct % len(texts))
        self.inverse = inverse
        self.names.append(name)
        self.texts.append(texts)
        return True

    def column(self, first: bool) -> pa.DictionaryArray:
        parts: list[pa.Array | str] = []
        for i, (name, texts, members) in enumerate(
            zip(self.names, self.texts, self.members, strict=True)
        ):
            parts += [_key(name, first=first and i == 0), texts.take(members)]
        combined = pc.binary_join_element_wise(*parts, "")
        return pa.DictionaryArray.from_arrays(pa.array(self.inverse, pa.int32()), combined)


def _runs_keyed(table: pa.Table) -> pa.Table:
    """The table with each run of adjacent repetitive columns as one keyed dictionary
    column, encoded once for the table instead of once per piece and per column."""
    if table.num_rows < _REPETITIVE:
        return table
    columns: list[pa.Array] = []
    fields: list[pa.Field] = []
    run: _Run | None = None
    first_of_run = False

    def close() -> None:
        nonlocal run
        if run is not None:
            column = run.column(first=first_of_run)
            columns.append(column)
            fields.append(pa.field("+".join(run.names), column.type, metadata=_KEYED))
            run = None

    for i, (field, chunked) in enumerate(zip(table.schema, table.columns, strict=True)):
        column = chunked.combine_chunks()
        distinct = _distinct(column)
        if distinct is not None and run is not None and run.extend(field.name, *distinct):
            continue
        close()
        if distinct is not None:
            run, first_of_run = _Run(field.name, *distinct), i == 0
        else:
            columns.append(column)
            fields.append(field)
    close()
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def jsonl_pieces(table: pa.Table) -> list[pa.Table]:
    """The table in pieces of PIECE rows for jsonl_bytes, its repetitive columns
    encoded once: each row's texts exist three times while it is encoded (the value,
    its JSON, the line), so a whole batch at once would hold some hundred megabytes."""
    table = _runs_keyed(table)
    return [table.slice(i, PIECE) for i in range(0, table.num_rows, PIECE)]
