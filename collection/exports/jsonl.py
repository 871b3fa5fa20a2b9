"""JSON Lines from an Arrow table without a Python object per value.

Each column becomes a column of JSON texts, and Arrow joins them into one line per row.
Every distinct string is encoded once by orjson (escaping as orjson does: UTF-8 as is);
answers and prompts repeat over hundreds of labels, so that is a few hundred calls per
batch instead of one per value. Numbers take Arrow's shortest round-trip text, with
``.0`` kept on whole floats so that a reader types the column as float; NaN is null, as
orjson writes it. Lists are the conversational format's turns: one struct per row.
"""

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

_NULL = pa.scalar("null", pa.string())
PIECE = 1024
# The field metadata of a column whose values are JSON texts already.
_ENCODED = {b"json": b"encoded"}


def _escaping_needed(column: pa.Array) -> bool:
    """Whether a value holds what orjson escapes (quotes, backslashes, control
    characters): one pass over the text bytes."""
    if not pa.types.is_string(column.type) or len(column) == 0:
        return len(column) > 0
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
        if len(column.dictionary) <= len(column):
            return pc.take(_json_texts(column.dictionary), column.indices)
        column = column.dictionary_decode()
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
        pieces += [("{" if i == 0 else ",") + orjson.dumps(name).decode() + ":", _filled(value)]
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
    Arrow buffer that holds them)."""
    if table.num_rows == 0:
        return memoryview(b"")
    values = []
    for field, column in zip(table.schema, table.columns, strict=True):
        whole = column.combine_chunks()
        values.append(whole.dictionary_decode() if field.metadata == _ENCODED else fragments(whole))
    lines = _objects(table.column_names, values, "}\n")
    # The lines lie end to end in the array's data buffer: it is the file's bytes.
    _, offsets, data = lines.buffers()
    bounds = np.frombuffer(offsets, np.int32)[lines.offset : lines.offset + len(lines) + 1]
    return memoryview(data.slice(int(bounds[0]), int(bounds[-1] - bounds[0])))


# A text or float column with at most one distinct value in this many rows is encoded
# value by value once per table (a design's name, a propensity, an annotator's
# covariates); the others (timestamps, rationales) piece by piece.
_REPETITIVE = 8


def _dictionary(column: pa.Array) -> pa.DictionaryArray | None:
    """The column as a dictionary array where that saves encoding, else None."""
    if pa.types.is_dictionary(column.type):
        if len(column.dictionary) <= len(column):
            return column
        # More texts than rows (a large stimulus set): only those the rows use.
        used = pc.unique(column.indices).drop_null()
        return pa.DictionaryArray.from_arrays(
            pc.index_in(column.indices, value_set=used), column.dictionary.take(used)
        )
    if not (pa.types.is_string(column.type) or pa.types.is_floating(column.type)):
        return None
    encoded = pc.dictionary_encode(column)
    return encoded if len(encoded.dictionary) * _REPETITIVE <= len(column) else None


def _dictionaries_encoded(table: pa.Table) -> pa.Table:
    """Dictionary columns (a stimulus's texts) and repetitive columns with their
    distinct values encoded once for the table instead of once per piece, marked as
    encoded in their field."""
    if not table.num_rows:
        return table
    for i, field in enumerate(table.schema):
        column = _dictionary(table.column(i).combine_chunks())
        if column is not None:
            values = column.dictionary
            json = _json_texts(values) if pa.types.is_string(values.type) else fragments(values)
            encoded = pa.DictionaryArray.from_arrays(column.indices, json)
            table = table.set_column(
                i, field.with_type(encoded.type).with_metadata(_ENCODED), encoded
            )
    return table


def jsonl_pieces(table: pa.Table) -> list[pa.Table]:
    """The table in pieces of PIECE rows for jsonl_bytes, its dictionaries encoded once:
    each row's texts exist three times while it is encoded (the value, its JSON, the
    line), so a whole batch at once would hold some hundred megabytes."""
    table = _dictionaries_encoded(table)
    return [table.slice(i, PIECE) for i in range(0, table.num_rows, PIECE)]
