"""Writes for imports: prompts with their responses, and ready-made pairs as stimuli.

All or nothing by default: any row error raises ImportFailed and nothing is written.
With ``skip_invalid`` the valid rows are imported and the summary lists every rejected
row with its line and reason. Either way a problem of the whole import (a name already
used, a damaged file) writes nothing. Rows are written in a few batched statements
(one per table and batch, not per row): a per-row round trip to PostgreSQL was most of
an import's time.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from interventions.bulk_copy import rows_inserted
from interventions.catalogue import direction_sign
from interventions.checks import pair_check
from interventions.import_rows import (
    MAX_NAME_CHARS,
    ImportFailed,
    Line,
    Parsed,
    RowError,
    rows_accepted,
    text_problem,
)
from interventions.imports import PromptRow, prompt_rows_parse
from interventions.models import Intervention, Prompt, Response, Stimulus, StimulusSet
from interventions.pair_imports import PairRow, pair_rows_parse


@dataclass(frozen=True)
class ImportSummary:
    prompts: int
    responses: int
    invalid_rows: tuple[RowError, ...] = ()


@dataclass(frozen=True)
class PairImportSummary:
    stimulus_set: StimulusSet
    stimuli: int
    rejected: int  # imported, but failed their intervention's manipulation check
    invalid_rows: tuple[RowError, ...] = ()


def _names_checked(**names: str) -> None:
    """Source and set names are stored in columns of MAX_NAME_CHARS."""
    problems = [
        f"the {label.replace('_', ' ')} {problem.split(' ', 2)[2]}"
        for label, value in names.items()
        if (problem := text_problem(value, label, limit=MAX_NAME_CHARS))
    ]
    if problems:
        raise ImportFailed(problems)


def prompts_import(
    *, lines: Iterable[Line], source: str, skip_invalid: bool = False, owner_id: int | None = None
) -> ImportSummary:
    """Import prompts and their responses. Raises ImportFailed (naming line and field)
    for a malformed file or for prompt ids this source already has, unless
    ``skip_invalid``: then those rows are left out and listed in the summary."""
    _names_checked(source_name=source)
    parsed = prompt_rows_parse(lines)
    with transaction.atomic():
        existing = set(
            Prompt.objects.filter(
                source=source, external_id__in=[r.prompt_id for r in parsed.rows]
            ).values_list("external_id", flat=True)
        )
        errors = parsed.errors + [
            RowError(r.line, f"field 'prompt_id' '{r.prompt_id}' was already imported from "
                             f"source '{source}'; remove the line or use another source name")
            for r in parsed.rows
            if r.prompt_id in existing
        ]  # fmt: skip
        fresh = [r for r in parsed.rows if r.prompt_id not in existing]
        rows = rows_accepted(Parsed(fresh, errors), skip_invalid=skip_invalid)
        prompts = rows_inserted(Prompt, [_prompt(source, r, owner_id) for r in rows])
        responses = rows_inserted(
            Response,
            [
                Response(prompt=p, text=text, model_name=model, origin=Response.Origin.IMPORTED)
                for p, row in zip(prompts, rows, strict=True)
                for model, text in row.responses.items()
            ],
        )
    return ImportSummary(len(prompts), len(responses), tuple(sorted(errors, key=_line)))


def _line(error: RowError) -> int:
    return error.line


def _prompt(source: str, row: PromptRow, owner_id: int | None) -> Prompt:
    return Prompt(
        source=source,
        external_id=row.prompt_id,
        category=row.category,
        text=row.prompt,
        owner_id=owner_id,
    )


def stimulus_pairs_import(
    *,
    lines: Iterable[Line],
    format: str,
    source: str,
    stimulus_set_name: str,
    intervention: str = "",
    skip_invalid: bool = False,
    owner_id: int | None = None,
) -> PairImportSummary:
    """Import ready-made pairs as observational stimuli in a new stimulus set; row
    errors raise ImportFailed unless ``skip_invalid`` (then they are listed in the
    summary). Pairs whose intervention name is a known Intervention are held to its
    manipulation check; others pass as imported unless both sides are the same text."""
    _names_checked(source_name=source, stimulus_set_name=stimulus_set_name)
    with transaction.atomic():
        if StimulusSet.objects.filter(name=stimulus_set_name).exists():
            raise ImportFailed(
                [f"a stimulus set named '{stimulus_set_name}' exists; choose another name"]
            )
        if Prompt.objects.filter(source=source).exists():
            raise ImportFailed([f"source '{source}' was already imported; use another source name"])
        parsed = pair_rows_parse(lines, format=format, intervention=intervention)
        rows = rows_accepted(parsed, skip_invalid=skip_invalid)
        stimulus_set = StimulusSet.objects.create(
            name=stimulus_set_name,
            response_source=source,
            seed=0,
            description=f"Imported pairs ({format}).",
            generation_status=StimulusSet.GenerationStatus.DONE,
            owner_id=owner_id,
        )
        stimuli = _stimuli_written(stimulus_set, rows, source=source, format=format)
    rejected = sum(s.check_status == Stimulus.CheckStatus.REJECTED for s in stimuli)
    invalid = tuple(sorted(parsed.errors, key=_line))
    return PairImportSummary(stimulus_set, len(stimuli), rejected, invalid)


def _stimuli_written(
    stimulus_set: StimulusSet, rows: list[PairRow], *, source: str, format: str
) -> list[Stimulus]:
    """Prompts, both responses and the stimulus of every row, one batch per table."""
    known = {
        iv.name: iv for iv in Intervention.objects.filter(name__in={r.intervention for r in rows})
    }
    owner_id = stimulus_set.owner_id
    prompts = rows_inserted(
        Prompt,
        [
            Prompt(source=source, external_id=r.prompt_id, text=r.prompt, owner_id=owner_id)
            for r in rows
        ],
    )
    responses = rows_inserted(
        Response,
        [
            Response(prompt=prompt, text=text, model_name=f"{format}:{side}",
                     origin=Response.Origin.IMPORTED)
            for prompt, row in zip(prompts, rows, strict=True)
            for side, text in (("control", row.control), ("treated", row.treated))
        ],
    )  # fmt: skip
    stimuli = [
        _imported_stimulus(stimulus_set, prompt, responses[2 * i], responses[2 * i + 1], row, known)
        for i, (prompt, row) in enumerate(zip(prompts, rows, strict=True))
    ]
    return list(rows_inserted(Stimulus, stimuli))


def _imported_stimulus(stimulus_set, prompt, control, treated, row, known) -> Stimulus:
    intervention = known.get(row.intervention)
    check = pair_check(
        control=row.control,
        treated=row.treated,
        measure=intervention.check_measure if intervention else "words",
        threshold=intervention.check_threshold if intervention else float("-inf"),
        direction=direction_sign(intervention.parameters) if intervention else 1,
        tolerances=intervention.tolerances if intervention else {},
    )
    passed = check.result.passed or (
        intervention is None and "unchanged" not in check.result.reason
    )
    return Stimulus(
        stimulus_set=stimulus_set,
        prompt=prompt,
        control=control,
        treated=treated,
        cell=row.intervention,
        treatment={row.intervention: 1},
        provenance=Stimulus.Provenance.OBSERVATIONAL,
        measures_control=check.measures_control,
        measures_treated=check.measures_treated,
        check_status=Stimulus.CheckStatus.PASSED if passed else Stimulus.CheckStatus.REJECTED,
        check_reason="" if passed else check.result.reason,
        details=row.details,
    )
