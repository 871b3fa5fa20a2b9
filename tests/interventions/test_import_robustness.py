"""Imports on real-world files: gzip, malformed rows reported by line and reason, the
option to import the valid rows, and limits that turn pathological rows into line
errors (never a crash, never a partial write)."""

import csv
import gzip
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from interventions.import_files import file_lines
from interventions.import_rows import MAX_JSON_DEPTH, MAX_LINE_BYTES, ImportFailed
from interventions.models import Prompt, Response, Stimulus, StimulusSet
from interventions.services import prompts_import, stimulus_pairs_import
from tests.factories import jsonl

DATA = Path(__file__).resolve().parents[1] / "data"
HH = DATA / "hh_rlhf_sample.jsonl"
HH_GZ = DATA / "hh_rlhf_sample.jsonl.gz"
# The fixture's bad rows (tests/hh_rlhf_shape.py): line -> what the reason must say.
BAD = {
    4: "field 'rejected' ends with an empty Assistant answer",
    9: "fields 'chosen' and 'rejected' differ before the last answer",
    15: "field 'chosen' contains a NUL character",
    21: f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels",
    27: "field 'chosen' is 126,833 characters long; the limit is 100,000",
    33: "field 'rejected' must be text, found a number",
    38: "not UTF-8 text",
}
GOOD_ROWS = 40 - len(BAD)
PROMPT = {"prompt_id": "p1", "prompt": "Why is the sky blue?", "responses": {"m": "Rayleigh."}}


def _hh(path: Path, **kw):
    with path.open("rb") as stream:
        return stimulus_pairs_import(
            lines=file_lines(stream, name=path.name),
            format="hh-rlhf",
            source=kw.pop("source", path.name),
            stimulus_set_name=kw.pop("name", path.name),
            **kw,
        )


def _assert_bad_rows_named(errors) -> None:
    assert [e.line for e in errors] == list(BAD)
    for error in errors:
        assert BAD[error.line] in error.reason, error


def _nothing_imported() -> None:
    assert not StimulusSet.objects.exists() and not Prompt.objects.exists()
    assert not Response.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("path", [HH, HH_GZ], ids=["jsonl", "gz"])
def test_without_the_option_nothing_is_imported_and_every_bad_row_is_listed(path):
    with pytest.raises(ImportFailed) as failed:
        _hh(path)
    _assert_bad_rows_named(failed.value.row_errors)
    assert failed.value.skippable and failed.value.valid_rows == GOOD_ROWS
    _nothing_imported()


@pytest.mark.django_db
@pytest.mark.parametrize("path", [HH, HH_GZ], ids=["jsonl", "gz"])
def test_with_the_option_the_good_rows_import_and_the_bad_ones_are_reported(path):
    summary = _hh(path, skip_invalid=True)
    assert summary.stimuli == GOOD_ROWS == Stimulus.objects.count()
    _assert_bad_rows_named(summary.invalid_rows)
    imported_lines = set(Stimulus.objects.values_list("details__line", flat=True))
    assert imported_lines == set(range(1, 41)) - set(BAD)
    # Each imported pair is the real row: the rejected answer on the control side.
    first = json.loads(HH.read_bytes().splitlines()[0])
    pair = Stimulus.objects.get(details__line=1)
    assert first["rejected"].endswith(pair.control.text)
    assert first["chosen"].endswith(pair.treated.text)
    assert pair.measures_control["words"] > 0 and pair.check_status == "passed"


@pytest.mark.django_db
def test_command_reads_gzip_lists_errors_and_names_the_option(tmp_path):
    with pytest.raises(CommandError) as failed:
        call_command("import_pairs", str(HH_GZ), "--format", "hh-rlhf")
    message = str(failed.value)
    for line, reason in BAD.items():
        assert f"line {line}: " in message and reason in message
    assert f"{GOOD_ROWS} rows are valid: re-run with --skip-invalid" in message
    _nothing_imported()


@pytest.mark.django_db
def test_command_skip_invalid_writes_the_report_file(tmp_path):
    report, out = tmp_path / "rejected.csv", io.StringIO()
    args = [str(HH_GZ), "--format", "hh-rlhf", "--skip-invalid", "--report", str(report)]
    call_command("import_pairs", *args, stdout=out)
    assert f"imported {GOOD_ROWS} pairs" in out.getvalue()
    assert f"7 rows rejected; report written to {report}" in out.getvalue()
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert [int(r["line"]) for r in rows] == list(BAD)
    assert all(BAD[int(r["line"])] in r["reason"] for r in rows)


@pytest.mark.django_db
def test_command_skip_invalid_prints_the_report_without_a_file():
    out = io.StringIO()
    call_command("import_pairs", str(HH), "--format", "hh-rlhf", "--skip-invalid", stdout=out)
    printed = out.getvalue().splitlines()
    assert printed[0].startswith(f"imported {GOOD_ROWS} pairs")
    assert printed[1] == "7 rows rejected (not imported):"
    assert [int(p.split(":")[0].removeprefix("line ")) for p in printed[2:]] == list(BAD)


@pytest.mark.django_db
def test_prompt_command_reads_gzip_and_skips_invalid(tmp_path):
    path = tmp_path / "prompts.jsonl.gz"
    rows = [PROMPT, {**PROMPT, "prompt_id": "p2", "responses": {"m": "a\u0000b"}}]
    path.write_bytes(gzip.compress("".join(jsonl(rows)).encode()))
    with pytest.raises(CommandError, match=r"line 2: field 'responses.m' contains a NUL"):
        call_command("import_prompts", str(path))
    assert not Prompt.objects.exists()
    out = io.StringIO()
    call_command("import_prompts", str(path), "--skip-invalid", stdout=out)
    assert "imported 1 prompts and 1 responses" in out.getvalue()
    assert "line 2: field 'responses.m' contains a NUL character" in out.getvalue()


@pytest.mark.django_db
def test_a_damaged_or_misnamed_gzip_file_imports_nothing(tmp_path):
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(HH_GZ.read_bytes()[:-200])
    with pytest.raises(ImportFailed, match="gzip data of 'cut.jsonl.gz' is damaged or cut short"):
        _hh(cut, skip_invalid=True)
    plain = tmp_path / "plain.jsonl.gz"
    plain.write_bytes(HH.read_bytes())
    with pytest.raises(ImportFailed, match="named .gz but is not gzip-compressed"):
        _hh(plain, skip_invalid=True)
    _nothing_imported()


@pytest.mark.django_db
def test_a_line_over_the_limit_is_read_past_and_reported():
    huge = b'{"prompt": "' + b"x" * MAX_LINE_BYTES + b'"}\n'
    lines = list(file_lines(io.BytesIO(b"{}\n" + huge + b"{}\n"), name="f.jsonl"))
    assert lines[0] == lines[2] == b"{}\n"
    assert lines[1].size == len(huge) - 1  # type: ignore[union-attr]
    good = [line.encode() for line in jsonl([PROMPT])]
    lines = list(file_lines(io.BytesIO(b"".join([*good, huge, *good])), name="f.jsonl"))
    errors = prompts_import(lines=lines[:2], source="s", skip_invalid=True).invalid_rows
    assert [str(e) for e in errors] == [
        f"line 2: the line is {len(huge) - 1:,} bytes long; the limit is 1,000,000 bytes per line"
    ]


@pytest.mark.django_db
def test_upload_size_limit_counts_decompressed_bytes():
    data = gzip.compress(b"".join([b"{}\n"] * 10_000))
    with pytest.raises(ImportFailed, match="holds more than 1,000 bytes \\(decompressed\\)"):
        list(file_lines(io.BytesIO(data), name="bomb.jsonl.gz", max_bytes=1_000))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b'{"prompt_id": "p2", "prompt": "x\\u0000", "responses": {"m": "y"}}',
         "field 'prompt' contains a NUL character (\\u0000); remove it"),
        (b'{"prompt_id": "p2", "prompt": "x", "responses": {"m\\u0000": "y"}}',
         "field 'responses (model name)' contains a NUL character"),
        (b'{"prompt_id": "p2", "prompt": "x",\x00 "responses": {"m": "y"}}',
         "the line contains a NUL byte"),
        (b"[" * 100_000 + b"]" * 100_000, "the JSON is nested deeper than 64 levels"),
        (b'{"a": ' * 65 + b"1" + b"}" * 65, "the JSON is nested deeper than 64 levels"),
        (json.dumps({**PROMPT, "prompt_id": 7}).encode(),
         "field 'prompt_id' must be text, found a number"),
        (json.dumps({**PROMPT, "prompt_id": "p2", "responses": {"m": ["y"]}}).encode(),
         "field 'responses.m' must be text, found a list"),
        (json.dumps({**PROMPT, "prompt_id": "p2", "category": 3}).encode(),
         "field 'category' must be text, found a number"),
        (json.dumps({**PROMPT, "prompt_id": "p" * 201}).encode(),
         "field 'prompt_id' is 201 characters long; the limit is 200"),
        (json.dumps({**PROMPT, "prompt_id": "p2", "category": "c" * 101}).encode(),
         "field 'category' is 101 characters long; the limit is 100"),
        (json.dumps({**PROMPT, "prompt_id": "p2", "responses": {"m" * 201: "y"}}).encode(),
         "field 'responses (model name)' is 201 characters long; the limit is 200"),
        (json.dumps({**PROMPT, "prompt_id": "p2", "prompt": "w" * 100_001}).encode(),
         "field 'prompt' is 100,001 characters long; the limit is 100,000"),
        (b'{"prompt_id": "p2", "prompt": "caf\xe9", "responses": {"m": "y"}}',
         "not UTF-8 text (invalid continuation byte at byte 35)"),
    ],
)  # fmt: skip
def test_pathological_prompt_lines_are_line_errors(line, expected):
    lines = [*jsonl([PROMPT]), line + b"\n", *jsonl([{**PROMPT, "prompt_id": "p3"}])]
    with pytest.raises(ImportFailed) as failed:
        prompts_import(lines=lines, source="s")
    (error,) = failed.value.row_errors
    assert str(error).startswith(f"line 2: {expected}"), error
    assert not Prompt.objects.exists()
    summary = prompts_import(lines=lines, source="s", skip_invalid=True)
    assert summary.prompts == 2 and [e.line for e in summary.invalid_rows] == [2]
    assert set(Prompt.objects.values_list("external_id", flat=True)) == {"p1", "p3"}


@pytest.mark.django_db
def test_skip_invalid_leaves_out_repeats_and_ids_already_imported():
    prompts_import(lines=jsonl([PROMPT]), source="s")
    again = jsonl([PROMPT, {**PROMPT, "prompt_id": "p2"}, {**PROMPT, "prompt_id": "p2"}])
    with pytest.raises(ImportFailed, match="already imported"):
        prompts_import(lines=again, source="s")
    summary = prompts_import(lines=again, source="s", skip_invalid=True)
    assert [str(e)[:40] for e in summary.invalid_rows] == [
        "line 1: field 'prompt_id' 'p1' was alrea",
        "line 3: field 'prompt_id' repeats 'p2' f",
    ]
    assert Prompt.objects.filter(source="s").count() == 2


@pytest.mark.django_db
def test_a_file_of_only_bad_rows_imports_nothing_even_with_the_option():
    with pytest.raises(ImportFailed) as failed:
        prompts_import(lines=[b"{oops\n", b"[1]\n"], source="s", skip_invalid=True)
    assert [e.line for e in failed.value.row_errors] == [1, 2]
    assert not failed.value.skippable
    _nothing_imported()


@pytest.mark.django_db
def test_csv_rows_with_unreadable_lines_are_rejected_whole():
    content = (
        b"prompt,control,treated,intervention\n"
        b'Q1,"Two\nlines \xff here.","Short.",cell\n'
        b'Q2,"A short answer.","A longer answer, surely.",cell\n'
        b'Q3,"Nul \x00 here.","Other.",cell\n'
    )
    lines = io.BytesIO(content).readlines()
    with pytest.raises(ImportFailed) as failed:
        stimulus_pairs_import(lines=lines, format="pairs-csv", source="c", stimulus_set_name="c")
    assert [str(e)[:22] for e in failed.value.row_errors] == [
        "line 3: not UTF-8 text",
        "line 5: the line conta",
    ]
    summary = stimulus_pairs_import(
        lines=lines, format="pairs-csv", source="c", stimulus_set_name="c", skip_invalid=True
    )
    assert summary.stimuli == 1
    assert Stimulus.objects.get().prompt.text == "Q2"


@pytest.mark.django_db
def test_rows_written_in_bulk_keep_their_ids_apart_from_later_rows():
    summary = _hh(HH, skip_invalid=True)
    stimuli = list(Stimulus.objects.select_related("prompt", "control", "treated"))
    assert len({s.control_id for s in stimuli} | {s.treated_id for s in stimuli}) == 2 * GOOD_ROWS
    assert all(s.control.prompt_id == s.prompt_id == s.treated.prompt_id for s in stimuli)
    later = Prompt.objects.create(source="later", external_id="x", text="x")
    assert later.pk > max(s.prompt_id for s in stimuli)
    assert summary.stimulus_set.stimuli.count() == GOOD_ROWS


@pytest.mark.django_db
def test_names_over_the_column_limit_are_row_errors():
    pair = {"prompt": "Q", "control": "A.", "treated": "B.", "intervention": "x" * 201}
    with pytest.raises(ImportFailed, match="line 1: field 'intervention' 'xxx.*at most 200"):
        stimulus_pairs_import(
            lines=jsonl([pair]), format="pairs-jsonl", source="s", stimulus_set_name="s"
        )
    with pytest.raises(ImportFailed, match="the stimulus set name is 201 characters long"):
        stimulus_pairs_import(
            lines=jsonl([pair]), format="pairs-jsonl", source="s", stimulus_set_name="n" * 201
        )
    _nothing_imported()


@pytest.mark.django_db
def test_a_csv_header_without_the_columns_imports_nothing_even_with_the_option():
    lines = ["prompt,control,treated\n", "Q,A.,B.\n"]
    with pytest.raises(ImportFailed, match="line 1: the header lacks column\\(s\\) intervention"):
        stimulus_pairs_import(
            lines=lines, format="pairs-csv", source="s", stimulus_set_name="s", skip_invalid=True
        )
    _nothing_imported()
