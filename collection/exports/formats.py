"""From a table of labels (collection.exports.source) to the rows of each export format:
Arrow tables with the codebook's columns in its order, timestamps still ISO 8601 text.

A label becomes zero, one or two rows; each format says which label every row comes from
(an index into the batch) and what the row adds, and the label's columns are taken by
that index: no Python loop per row.
"""

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from collection.exports.columns import MESSAGES, columns

Shaper = Callable[[pa.Table, str], pa.Table]


def _share(part: pa.ChunkedArray, n: pa.ChunkedArray) -> pa.ChunkedArray:
    """part / n, empty where n is 0."""
    ratio = pc.divide(pc.cast(part, pa.float64()), pc.cast(n, pa.float64()))
    return pc.if_else(pc.equal(n, 0), pa.scalar(None, pa.float64()), ratio)


def _metadata(t: pa.Table, study: str) -> dict[str, pa.ChunkedArray | pa.Array]:
    return {
        "weight": pc.divide(1.0, t["propensity"]),
        "y": t["y"],
        "study": pa.repeat(pa.scalar(study, pa.string()), t.num_rows),
        "label_id": t["label_id"],
        "stimulus_id": t["stimulus_id"],
        "intervention": t["intervention"],
        "treatment": t["treatment"],
        "intervention_details": t["details"],
        "provenance": t["provenance"],
        "treated_on_left": t["treated_on_left"],
        "choice": t["choice"],
        "strength": t["strength"],
        "rationale": t["rationale"],
        "time_on_task_ms": t["time_on_task_ms"],
        "annotator": t["annotator"],
        "covariates": t["covariates"],
        "propensity": t["propensity"],
        "p_stimulus": t["p_stimulus"],
        "p_order": t["p_order"],
        "design": t["design"],
        "design_version": t["design_version"],
        "stratum": t["stratum"],
        "sequence": t["sequence"],
        "is_attention_check": t["is_attention_check"],
        "attention_passed": t["attention_passed"],
        "pretest_status": t["validation_status"],
        "pretest_answers": t["validation_n"],
        "pretest_identified_share": _share(t["validation_identified"], t["validation_n"]),
        "pretest_same_meaning_share": _share(t["validation_same_meaning"], t["validation_n"]),
        "served_at": t["served_at"],
        "labelled_at": t["labelled_at"],
    }


def _take(t: pa.Table, source: np.ndarray) -> pa.Table:
    """The labels the rows come from, one per row."""
    return t.take(pa.array(source, pa.int64()))


def _rows(rows: pa.Table, study: str, fmt: str, own: dict) -> pa.Table:
    """The format's table: its own columns, then the metadata of the label each row
    comes from (``rows``, one label per row)."""
    data = own | _metadata(rows, study)
    names = [c.name for c in columns(fmt)]
    assert list(data) == names, f"{fmt} columns drifted from the codebook"
    return pa.table([data[n] for n in names], names=names)


def _two_sides(t: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """(source, treated chosen) of each row a paired format writes: a clear preference
    is one row; y strictly between 0 and 1 (a tie counted as half, a graded preference)
    is two, treated chosen with share y then control with 1 - y, so a trainer weighting
    by share learns the study's outcome. A tie the study leaves out (y empty) has no row."""
    y = t["y"].to_numpy()  # NaN where empty
    treated_row = y > 0  # False for NaN
    control_row = y < 1
    count = treated_row.astype(np.int64) + control_row
    source = np.repeat(np.arange(t.num_rows), count)
    first = np.zeros(len(source), bool)
    first[np.cumsum(count)[count > 0] - count[count > 0]] = True
    return source, first & treated_row[source]


def _either(condition: pa.Array, yes: pa.ChunkedArray, no: pa.ChunkedArray) -> pa.Array:
    """``yes`` where ``condition`` holds, else ``no``; texts that come as dictionary
    arrays (collection.exports.source) stay indices into one dictionary."""
    if not pa.types.is_dictionary(yes.type):
        return pc.if_else(condition, yes, no)
    yes, no = pa.chunked_array(yes.chunks + no.chunks).unify_dictionaries().chunks
    return pa.DictionaryArray.from_arrays(
        pc.if_else(condition, yes.indices, no.indices), yes.dictionary
    )


def _messages(role: str, texts: pa.ChunkedArray | pa.Array) -> pa.Array:
    """One turn per row, as the conversational format's list of {role, content}."""
    content = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    if pa.types.is_dictionary(content.type):
        content = content.dictionary_decode()
    turns = pa.StructArray.from_arrays(
        [pa.repeat(pa.scalar(role, pa.string()), len(content)), content],
        fields=list(MESSAGES.value_type),
    )
    return pa.ListArray.from_arrays(pa.array(np.arange(len(content) + 1), pa.int32()), turns)


def _paired(t: pa.Table, study: str, fmt: str) -> pa.Table:
    source, treated_won = _two_sides(t)
    rows = _take(t, source)
    won = pa.array(treated_won)
    chosen = _either(won, rows["treated"], rows["control"])
    rejected = _either(won, rows["control"], rows["treated"])
    share = pc.if_else(won, rows["y"], pc.subtract(1.0, rows["y"]))
    own: dict = {"prompt": rows["prompt"], "chosen": chosen, "rejected": rejected}
    if fmt == "trl_conversational":
        own = {
            "prompt": _messages("user", rows["prompt"]),
            "chosen": _messages("assistant", chosen),
            "rejected": _messages("assistant", rejected),
        }
    own |= {"chosen_is_treated": won, "share": share}
    return _rows(rows, study, fmt, own)


def trl(t: pa.Table, study: str) -> pa.Table:
    return _paired(t, study, "trl")


def trl_conversational(t: pa.Table, study: str) -> pa.Table:
    return _paired(t, study, "trl_conversational")


def kto(t: pa.Table, study: str) -> pa.Table:
    """Unpaired: the preferred response desirable, the other undesirable, treated first.
    A tie has no desirable side, so it has no row (the data card counts them)."""
    y = t["y"].to_numpy()
    tie = np.asarray(pc.equal(t["choice"], "tie").to_numpy(zero_copy_only=False), bool)
    clear = ~np.isnan(y) & (y != 0.5) & ~tie
    source = np.repeat(np.flatnonzero(clear), 2)
    is_treated = np.tile([True, False], int(clear.sum()))
    rows = _take(t, source)
    treated = pa.array(is_treated, pa.bool_())
    own = {
        "prompt": rows["prompt"],
        "completion": _either(treated, rows["treated"], rows["control"]),
        "label": pa.array(is_treated == (y[source] > 0.5), pa.bool_()),
        "completion_is_treated": treated,
    }
    return _rows(rows, study, "kto", own)


def labels(t: pa.Table, study: str) -> pa.Table:
    """One row per label, ties included (y empty where the study leaves ties out)."""
    own = {"prompt": t["prompt"], "control": t["control"], "treated": t["treated"]}
    return _rows(t, study, "labels", own)


SHAPERS: dict[str, Shaper] = {
    "trl": trl,
    "trl_conversational": trl_conversational,
    "kto": kto,
    "labels": labels,
}
