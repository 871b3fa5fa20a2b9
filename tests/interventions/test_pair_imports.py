import json

import pytest
from django.core.management import CommandError, call_command

from interventions.imports import ImportFailed
from interventions.models import Prompt, Response, Stimulus, StimulusSet
from interventions.services import interventions_install_builtin, stimulus_pairs_import
from tests.factories import jsonl

PAIR = {
    "prompt": "How far is Paris from London?",
    "control": "A few hours by train.",
    "treated": "A few hours by train. In other words, a few hours by train.",
    "intervention": "length-longer",
}
HH = {
    "chosen": "\n\nHuman: Is coffee bad for me?\n\nAssistant: In moderation it is fine.",
    "rejected": "\n\nHuman: Is coffee bad for me?\n\nAssistant: Yes.",
}
TRL = {"prompt": "Name a prime.", "chosen": "7 is prime.", "rejected": "9 is prime."}
CSV = (
    "prompt,control,treated,intervention\n"
    'Q1,"A short answer.","A short answer. In other words, a short answer.",length-longer\n'
    'Q2,"Plain, two lines\nof text.","Plain text.",my-cell\n'
)


def _import(lines, format, **kw):
    source = kw.pop("source", "src")
    name = kw.pop("name", "s")
    return stimulus_pairs_import(
        lines=lines, format=format, source=source, stimulus_set_name=name, **kw
    )


@pytest.mark.django_db
def test_researcher_pairs_are_observational_and_checked_when_the_intervention_is_known():
    interventions_install_builtin()
    summary = _import(jsonl([PAIR, {**PAIR, "intervention": "my-own"}]), "pairs-jsonl")
    assert summary.stimuli == 2
    known, own = Stimulus.objects.order_by("pk")
    assert {known.provenance, own.provenance} == {Stimulus.Provenance.OBSERVATIONAL}
    assert known.treatment == {"length-longer": 1} and own.cell == "my-own"
    assert known.check_status == Stimulus.CheckStatus.PASSED
    assert known.measures_treated["words"] > known.measures_control["words"]
    assert (known.control.text, known.treated.text) == (PAIR["control"], PAIR["treated"])
    assert known.details == {"format": "pairs-jsonl", "line": 1}


@pytest.mark.django_db
def test_csv_pairs_keep_multiline_fields_and_name_their_lines():
    summary = _import(CSV.splitlines(keepends=True), "pairs-csv")
    assert summary.stimuli == 2
    second = Stimulus.objects.get(cell="my-cell")
    assert second.control.text == "Plain, two lines\nof text."
    bad = CSV.replace(',"Plain text.",', ',"",')
    with pytest.raises(ImportFailed, match="line 3: field 'treated' is empty"):
        _import(bad.splitlines(keepends=True), "pairs-csv", source="other", name="other")


@pytest.mark.django_db
def test_trl_and_hh_rows_put_the_chosen_answer_on_the_treated_side():
    conversational = {
        "prompt": [{"role": "user", "content": "Name a colour."}],
        "chosen": [{"role": "assistant", "content": "Blue."}],
        "rejected": [{"role": "assistant", "content": "Seven."}],
    }
    _import(jsonl([TRL, conversational]), "trl", intervention="helpful")
    rows = list(Stimulus.objects.order_by("pk"))
    assert [(s.prompt.text, s.control.text, s.treated.text) for s in rows] == [
        ("Name a prime.", "9 is prime.", "7 is prime."),
        ("Name a colour.", "Seven.", "Blue."),
    ]
    assert {s.cell for s in rows} == {"helpful"}
    summary = stimulus_pairs_import(
        lines=jsonl([HH]), format="hh-rlhf", source="hh", stimulus_set_name="hh"
    )
    hh = summary.stimulus_set.stimuli.get()
    assert hh.prompt.text == "Human: Is coffee bad for me?"
    assert (hh.control.text, hh.treated.text) == ("Yes.", "In moderation it is fine.")
    assert hh.cell == "chosen" and hh.details["treated_is"] == "chosen"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("format", "rows", "expected"),
    [
        ("pairs-jsonl", [PAIR, {**PAIR, "treated": ""}], "line 2: field 'treated' is empty"),
        ("pairs-jsonl", [PAIR, {**PAIR, "treated": PAIR["control"]}], "line 2: fields 'control'"),
        ("pairs-jsonl", [{**PAIR, "prompt": None}], "line 1: field 'prompt' is empty"),
        ("pairs-jsonl", [{"control": "a", "treated": "b"}], "line 1: field 'prompt' is missing"),
        ("trl", [TRL, {**TRL, "chosen": []}], "line 2: field 'chosen' must be non-empty text"),
        ("hh-rlhf", [{**HH, "rejected": "no turns"}], "line 1: field 'rejected' is not an HH-RLHF"),
        (
            "hh-rlhf",
            [HH, {**HH, "rejected": HH["rejected"].replace("coffee", "tea")}],
            "line 2: fields 'chosen' and 'rejected' differ before the last answer",
        ),
    ],
)  # fmt: skip
def test_bad_rows_name_line_and_field_and_import_nothing(format, rows, expected):
    with pytest.raises(ImportFailed, match=expected):
        _import(jsonl(rows), format)
    assert not StimulusSet.objects.exists() and not Prompt.objects.exists()
    assert not Response.objects.exists()


@pytest.mark.django_db
def test_a_second_import_under_the_same_names_is_refused_whole():
    _import(jsonl([PAIR]), "pairs-jsonl")
    with pytest.raises(ImportFailed, match="a stimulus set named 's' exists"):
        _import(jsonl([PAIR]), "pairs-jsonl", source="new")
    assert Stimulus.objects.count() == 1


@pytest.mark.django_db
def test_management_command_imports_and_reports_errors(tmp_path):
    good = tmp_path / "pairs.jsonl"
    good.write_text("".join(jsonl([TRL])))
    call_command("import_pairs", str(good), "--format", "trl")
    assert StimulusSet.objects.get(name="pairs.jsonl").stimuli.count() == 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"prompt": "x"}) + "\n")
    with pytest.raises(CommandError, match="line 1: field 'chosen' is missing"):
        call_command("import_pairs", str(bad), "--format", "trl")
