"""From one label record to the rows of each export format (plain dicts, codebook keys)."""

from collections.abc import Callable

from collection.exports.source import Record

Row = dict[str, object]


def _metadata(r: Record, study: str) -> Row:
    return {
        "weight": 1.0 / r.propensity,
        "y": r.y,
        "study": study,
        "label_id": r.label_id,
        "stimulus_id": r.stimulus_id,
        "intervention": r.intervention,
        "treatment": r.treatment,
        "intervention_details": r.details,
        "provenance": r.provenance,
        "treated_on_left": r.treated_on_left,
        "choice": r.choice,
        "strength": r.strength,
        "rationale": r.rationale,
        "time_on_task_ms": r.time_on_task_ms,
        "annotator": r.annotator,
        "covariates": r.covariates,
        "propensity": r.propensity,
        "p_stimulus": r.p_stimulus,
        "p_order": r.p_order,
        "design": r.design,
        "design_version": r.design_version,
        "stratum": r.stratum,
        "sequence": r.sequence,
        "is_attention_check": r.is_attention_check,
        "attention_passed": r.attention_passed,
        "pretest_status": r.validation_status,
        "pretest_answers": r.validation_n,
        "pretest_identified_share": _share(r.validation_identified, r.validation_n),
        "pretest_same_meaning_share": _share(r.validation_same_meaning, r.validation_n),
        "served_at": r.served_at,
        "labelled_at": r.labelled_at,
    }


def _share(part: int, n: int) -> float | None:
    return part / n if n else None


def _sides(r: Record) -> list[tuple[bool, float]]:
    """(treated chosen, share) of each row a paired format writes for the label: a
    clear preference is one row; y strictly between 0 and 1 (a tie counted as half, a
    graded preference) is two, treated chosen with share y and control with 1 - y, so
    a trainer weighting by share learns the study's outcome. A tie the study leaves out
    (y empty) has no row."""
    if r.y is None:
        return []
    return [(won, share) for won, share in ((True, r.y), (False, 1.0 - r.y)) if share > 0]


def _user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def trl_rows(r: Record, study: str, conversational: bool = False) -> list[Row]:
    rows = []
    sides = _sides(r)
    meta = _metadata(r, study) if sides else {}
    for treated_won, share in sides:
        chosen, rejected = (r.treated, r.control) if treated_won else (r.control, r.treated)
        row: Row
        if conversational:
            row = {"prompt": _user(r.prompt), "chosen": _assistant(chosen)}
            row["rejected"] = _assistant(rejected)
        else:
            row = {"prompt": r.prompt, "chosen": chosen, "rejected": rejected}
        row["chosen_is_treated"] = treated_won
        row["share"] = share
        rows.append(row | meta)
    return rows


def conversational_rows(r: Record, study: str) -> list[Row]:
    return trl_rows(r, study, conversational=True)


def kto_rows(r: Record, study: str) -> list[Row]:
    """Unpaired: the preferred response desirable, the other undesirable. A tie has no
    desirable side, so it has no row (the data card counts them)."""
    if r.y is None or r.y == 0.5 or r.choice == "tie":
        return []
    treated_won = r.y > 0.5
    meta = _metadata(r, study)
    return [
        {
            "prompt": r.prompt,
            "completion": r.treated if is_treated else r.control,
            "label": is_treated == treated_won,
            "completion_is_treated": is_treated,
        }
        | meta
        for is_treated in (True, False)
    ]


def label_rows(r: Record, study: str) -> list[Row]:
    """One row per label, ties included (y empty where the study leaves ties out)."""
    return [{"prompt": r.prompt, "control": r.control, "treated": r.treated} | _metadata(r, study)]


SHAPERS: dict[str, Callable[[Record, str], list[Row]]] = {
    "trl": trl_rows,
    "trl_conversational": conversational_rows,
    "kto": kto_rows,
    "labels": label_rows,
}
