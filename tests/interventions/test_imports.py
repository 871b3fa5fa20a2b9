import json

import pytest

from interventions.imports import ImportFailed
from interventions.models import Prompt, Response
from interventions.services import prompts_import
from tests.factories import demo_lines, jsonl

GOOD = {"prompt_id": "p1", "prompt": "Why is the sky blue?", "responses": {"m": "Rayleigh."}}


@pytest.mark.django_db
def test_demo_file_imports_every_prompt_and_response():
    lines = demo_lines()
    expected_responses = sum(len(json.loads(line)["responses"]) for line in lines)
    summary = prompts_import(lines=lines, source="demo")
    assert summary.prompts == len(lines) == Prompt.objects.count()
    assert summary.responses == expected_responses == Response.objects.count()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [
        ('{"prompt_id": "p2", "prompt": "x", ', "line 2: invalid JSON"),
        (
            json.dumps({"prompt": "x", "responses": {"m": "y"}}),
            "line 2: field 'prompt_id' is missing",
        ),
        (json.dumps({"prompt_id": "p2", "prompt": "x"}), "line 2: field 'responses' is missing"),
        (
            json.dumps({"prompt_id": "p2", "prompt": "x", "responses": {"m": "  "}}),
            "line 2: field 'responses.m' is empty",
        ),
        (
            json.dumps({"prompt_id": "p2", "prompt": "", "responses": {"m": "y"}}),
            "line 2: field 'prompt' is empty",
        ),
        (
            json.dumps({"prompt_id": "p1", "prompt": "x", "responses": {"m": "y"}}),
            "line 2: field 'prompt_id' repeats 'p1'",
        ),
        (json.dumps(["not", "an", "object"]), "line 2: expected a JSON object"),
    ],
)
def test_malformed_line_names_line_and_field_and_imports_nothing(bad_line, expected):
    lines = [*jsonl([GOOD]), bad_line + "\n", *jsonl([{**GOOD, "prompt_id": "p3"}])]
    with pytest.raises(ImportFailed) as error:
        prompts_import(lines=lines, source="bad")
    assert any(e.startswith(expected) for e in error.value.errors), error.value.errors
    assert Prompt.objects.count() == 0
    assert Response.objects.count() == 0


@pytest.mark.django_db
def test_every_problem_is_reported_in_one_pass():
    lines = ["{oops\n", json.dumps({"prompt_id": "a"}) + "\n"]
    with pytest.raises(ImportFailed) as error:
        prompts_import(lines=lines, source="bad")
    lines_named = {e.split(":")[0] for e in error.value.errors}
    assert lines_named == {"line 1", "line 2"}
    assert "nothing was imported" in str(error.value)


@pytest.mark.django_db
def test_reimport_of_same_source_is_refused_whole():
    prompts_import(lines=jsonl([GOOD]), source="s")
    with pytest.raises(ImportFailed, match="already imported"):
        prompts_import(lines=jsonl([{**GOOD, "prompt_id": "p9"}, GOOD]), source="s")
    assert Prompt.objects.count() == 1


@pytest.mark.django_db
def test_non_utf8_and_empty_files_are_refused():
    with pytest.raises(ImportFailed, match="line 1: not UTF-8"):
        prompts_import(lines=[b"\xff\xfe{}\n"], source="s")
    with pytest.raises(ImportFailed, match="no rows"):
        prompts_import(lines=["\n", "  \n"], source="s")
    assert Prompt.objects.count() == 0


def test_management_command_reports_problems(tmp_path, db):
    from django.core.management import CommandError, call_command

    path = tmp_path / "bad.jsonl"
    path.write_text(
        json.dumps(GOOD) + "\n" + json.dumps({**GOOD, "prompt_id": "p2", "responses": {}}) + "\n"
    )
    with pytest.raises(CommandError, match="line 2: field 'responses'"):
        call_command("import_prompts", str(path))
    assert Prompt.objects.count() == 0
