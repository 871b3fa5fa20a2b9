"""Exports: every format and file type loads with Hugging Face datasets with exactly the
codebook's columns; ties, filters and weights as documented; access as collection.access."""

import json
import uuid
import zipfile

import datasets
import pytest
from django.core.management import call_command

from annotators.models import CovariateSchema
from annotators.services import covariates_record
from collection.exports.columns import LABEL_FORMATS, codebook
from collection.exports.services import ExportInvalid, export_write
from collection.models import Label
from collection.services import assignment_next, label_submit
from interventions.models import Stimulus
from tests.collection.helpers import attention_checks_make
from tests.factories import enrollment_make, study_make

QUESTIONS = [
    {"key": "expertise", "label": "Expertise", "type": "choice", "choices": ["low", "high"]},
    {"key": "age", "label": "Age", "type": "number", "min": 18, "max": 99},
]


def labelled(study, answers: list[tuple[str, int]], covariates: dict | None = None):
    """One annotator labels the next pairs with these (choice, strength) answers."""
    enrollment = enrollment_make(study)
    if covariates is not None:
        covariates_record(
            annotator=enrollment.annotator, schema=study.covariate_schema, answers=covariates
        )
    for choice, strength in answers:
        a = assignment_next(enrollment_id=enrollment.pk).assignment
        label_submit(
            enrollment_id=enrollment.pk,
            assignment_id=a.pk,
            submission_id=uuid.uuid4(),
            choice=choice,
            strength=strength,
        )
    return enrollment


def bundle(study, tmp_path, fmt="trl", file_format="jsonl", **options):
    """Write the export and unpack it: (written, data path, codebook, data card)."""
    out = tmp_path / f"{fmt}-{file_format}-{len(list(tmp_path.iterdir()))}.zip"
    written = export_write(
        study=study, format=fmt, file_format=file_format, options=options, out=out
    )
    target = tmp_path / out.stem
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        z.extractall(target)
    data = target / f"{study.slug}-{fmt}.{file_format}"
    assert sorted(names) == sorted([data.name, "codebook.json", "DATACARD.md"])
    book = json.loads((target / "codebook.json").read_text())
    return written, data, book, (target / "DATACARD.md").read_text()


def load(data, file_format: str, tmp_path) -> datasets.Dataset:
    """The data file as Hugging Face datasets loads it."""
    builder = "json" if file_format == "jsonl" else "parquet"
    return datasets.load_dataset(
        builder, data_files=str(data), split="train", cache_dir=str(tmp_path / "hf")
    )


def jsonl_rows(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def schema(db):
    return CovariateSchema.objects.create(name="export-q", questions=QUESTIONS)


@pytest.fixture
def surveyed(stimulus_set, schema):
    study = study_make(stimulus_set=stimulus_set, schema=schema, labels_per_annotator=4)
    labelled(
        study,
        [("left", 1), ("tie", 2), ("right", 3), ("left", 2)],
        {"expertise": "high", "age": 30},
    )
    labelled(study, [("right", 1), ("left", 1), ("tie", 1)], {"expertise": "low", "age": 50})
    return study


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["jsonl", "parquet"])
@pytest.mark.parametrize("fmt", LABEL_FORMATS)
def test_every_export_loads_with_datasets_and_its_columns_are_the_codebook(
    surveyed, tmp_path, fmt, file_format
):
    written, data, book, card = bundle(surveyed, tmp_path, fmt, file_format)
    loaded = load(data, file_format, tmp_path)
    assert loaded.column_names == list(book) == list(codebook(fmt))
    assert all(entry["type"] and entry["meaning"] for entry in book.values())
    assert loaded.num_rows == written.rows > 0
    # 7 labels, 2 of them ties: paired formats write a tie as two half rows, KTO has no
    # row for a tie and two per preference, the label table one per label.
    assert written.rows == {"trl": 9, "trl_conversational": 9, "kto": 10, "labels": 7}[fmt]
    first = loaded[0]
    if fmt == "trl_conversational":
        assert first["prompt"][0]["role"] == "user"
        assert first["chosen"][0]["role"] == first["rejected"][0]["role"] == "assistant"
    elif fmt == "kto":
        assert isinstance(first["label"], bool) and isinstance(first["completion"], str)
    else:
        assert isinstance(first["prompt"], str)
    assert json.loads(first["covariates"]) in ({"expertise": "high", "age": 30},)
    assert first["weight"] == pytest.approx(1 / first["propensity"])
    assert "## Covariate distributions" in card and "high: 1, low: 1" in card
    assert "## Effect estimates" in card and "## Randomisation" in card


@pytest.mark.django_db
def test_trl_rows_pair_the_right_texts_and_keep_ties_as_two_half_rows(surveyed, tmp_path):
    _, data, _, _ = bundle(surveyed, tmp_path, "trl", "jsonl")
    rows = jsonl_rows(data)
    assert sum(r["share"] for r in rows) == 7
    tie = [r for r in rows if r["choice"] == "tie"]
    assert sorted((r["chosen_is_treated"], r["share"], r["y"]) for r in tie) == [
        (False, 0.5, 0.5),
        (False, 0.5, 0.5),
        (True, 0.5, 0.5),
        (True, 0.5, 0.5),
    ]
    for row in rows:
        stimulus = Stimulus.objects.get(pk=row["stimulus_id"])
        winner = stimulus.treated if row["chosen_is_treated"] else stimulus.control
        loser = stimulus.control if row["chosen_is_treated"] else stimulus.treated
        assert (row["prompt"], row["chosen"], row["rejected"]) == (
            stimulus.prompt.text,
            winner.text,
            loser.text,
        )
        if row["choice"] != "tie":
            assert row["chosen_is_treated"] == ((row["choice"] == "left") == row["treated_on_left"])
        assert row["treatment"] and json.loads(row["treatment"]) == stimulus.treatment


@pytest.mark.django_db
def test_the_label_table_keeps_ties_and_kto_counts_them_in_the_card(surveyed, tmp_path):
    surveyed.ties = "exclude"
    surveyed.save()
    _, data, _, _ = bundle(surveyed, tmp_path, "labels", "jsonl")
    rows = jsonl_rows(data)
    assert [r["label_id"] for r in rows] == list(
        Label.objects.filter(study=surveyed).order_by("pk").values_list("pk", flat=True)
    )
    assert [r["y"] for r in rows if r["choice"] == "tie"] == [None, None]
    written, _, _, card = bundle(surveyed, tmp_path, "kto", "jsonl")
    assert written.counts["ties"] == written.counts["ties_without_rows"] == 2
    assert "Ties without a row in this format: 2 (KTO cannot express a tie)" in card
    # TRL cannot write a tie the study leaves out either, and says so.
    written, data, _, card = bundle(surveyed, tmp_path, "trl", "jsonl")
    assert written.counts["ties_without_rows"] == 2 and written.rows == 5
    assert all(r["choice"] != "tie" for r in jsonl_rows(data))


@pytest.mark.django_db
def test_graded_strength_splits_the_label_by_y(surveyed, tmp_path):
    surveyed.strength = "graded"
    surveyed.save()
    _, data, _, _ = bundle(surveyed, tmp_path, "trl", "jsonl")
    treated_share: dict[int, float] = {}
    for r in jsonl_rows(data):
        treated_share[r["label_id"]] = treated_share.get(r["label_id"], 0.0) + (
            r["share"] if r["chosen_is_treated"] else 0.0
        )
    ys = {r["label_id"]: r["y"] for r in jsonl_rows(data)}
    assert treated_share == pytest.approx(ys)
    # Strength 1 and 2 move y by 1/6 and 1/3 only; strength 3 is a whole preference.
    graded = {r["label_id"] for r in jsonl_rows(data) if r["choice"] != "tie" and 0 < r["y"] < 1}
    assert len(graded) == 4 and len(ys) == 7


@pytest.mark.django_db
def test_filters_leave_out_ties_failures_and_careless_annotators(stimulus_set, tmp_path):
    attention_checks_make(stimulus_set, 3)
    # Nearly every draw is a check while one is left, so both annotators see all three.
    study = study_make(stimulus_set=stimulus_set, attention_check_rate=0.9, labels_per_annotator=6)
    careful, careless = enrollment_make(study), enrollment_make(study)
    for enrollment, attentive in ((careful, True), (careless, False)):
        tied = False
        while (a := assignment_next(enrollment_id=enrollment.pk).assignment) is not None:
            if a.is_attention_check:
                asked_left = (a.stimulus.attention_answer == "treated") == a.treated_on_left
                choice = "left" if asked_left == attentive else "right"
            else:
                choice = "left" if tied else "tie"
                tied = True
            label_submit(
                enrollment_id=enrollment.pk,
                assignment_id=a.pk,
                submission_id=uuid.uuid4(),
                choice=choice,
                strength=1,
            )
    labels = Label.objects.filter(study=study)
    checks = labels.filter(assignment__stimulus__is_attention_check=True)
    failed = checks.filter(assignment__enrollment=careless).count()
    assert failed and checks.filter(assignment__enrollment=careful).exists()
    ties = labels.filter(choice="tie").count()
    assert ties == 2
    careless_labels = labels.filter(assignment__enrollment=careless).count()

    written, data, _, card = bundle(study, tmp_path, "labels", "parquet")
    assert written.rows == labels.count()

    written, _, _, card = bundle(study, tmp_path, "labels", "jsonl", exclude_ties=True)
    assert written.rows == labels.count() - ties and written.counts["ties_filtered"] == ties
    assert f"Ties left out by the filter: {ties}" in card and "'exclude_ties': True" in card

    written, data, _, card = bundle(
        study, tmp_path, "labels", "jsonl", exclude_attention_failures=True
    )
    rows = jsonl_rows(data)
    assert written.counts["attention_failures_filtered"] == failed
    assert all(r["attention_passed"] is not False for r in rows)
    assert any(r["attention_passed"] is True for r in rows)

    written, data, _, _ = bundle(study, tmp_path, "labels", "jsonl", exclude_attention_checks=True)
    assert written.rows == labels.count() - checks.count()
    assert not any(r["is_attention_check"] for r in jsonl_rows(data))

    written, data, _, card = bundle(study, tmp_path, "labels", "jsonl", min_attention_share=0.5)
    codes = {r["annotator"] for r in jsonl_rows(data)}
    assert codes == {careful.annotator.code}
    assert written.counts["low_quality_labels_filtered"] == careless_labels
    assert (
        f"Annotators below the attention bar: 1, their labels left out: {careless_labels}" in card
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fmt", "file_format", "options", "message"),
    [
        ("dpo", "jsonl", {}, "unknown format 'dpo'"),
        ("trl", "csv", {}, "unknown file format 'csv'"),
        ("trl", "jsonl", {"drop": True}, "unknown export option(s) drop"),
        ("trl", "jsonl", {"exclude_ties": "yes"}, "exclude_ties must be true or false"),
        ("trl", "jsonl", {"min_attention_share": 2}, "from 0 to 1"),
    ],
)
def test_a_bad_request_says_what_to_fix_and_writes_nothing(
    study, tmp_path, fmt, file_format, options, message
):
    out = tmp_path / "x.zip"
    with pytest.raises(ExportInvalid, match=message.replace("(", r"\(").replace(")", r"\)")):
        export_write(study=study, format=fmt, file_format=file_format, options=options, out=out)
    assert not out.exists()


@pytest.mark.django_db
def test_the_command_writes_the_same_bundle(surveyed, tmp_path):
    out = tmp_path / "cmd.zip"
    call_command(
        "export_dataset", surveyed.slug, "--out", str(out), "--format", "kto", "--exclude-ties"
    )
    with zipfile.ZipFile(out) as z:
        rows = [json.loads(line) for line in z.read(f"{surveyed.slug}-kto.jsonl").splitlines()]
        assert list(json.loads(z.read("codebook.json"))) == list(rows[0])
    assert len(rows) == 10 and sum(r["label"] for r in rows) == 5


@pytest.mark.django_db
def test_timestamps_are_the_stored_instants_in_both_file_types(surveyed, tmp_path):
    """The database writes them as ISO 8601 text (PostgreSQL's to_char, SQLite's text);
    JSONL keeps the text, Parquet casts it to timestamps: both are the stored instants."""
    import datetime as dt

    import pyarrow.parquet as pq

    stored = {
        label.pk: (label.created_at, label.assignment.served_at)
        for label in Label.objects.select_related("assignment")
    }
    _, data, _, _ = bundle(surveyed, tmp_path, "labels", "jsonl")
    for row in jsonl_rows(data):
        labelled_at = dt.datetime.fromisoformat(row["labelled_at"])
        served_at = dt.datetime.fromisoformat(row["served_at"])
        assert (labelled_at, served_at) == stored[row["label_id"]]
        assert labelled_at.utcoffset() == dt.timedelta(0)
    _, data, _, _ = bundle(surveyed, tmp_path, "labels", "parquet")
    table = pq.read_table(data).to_pylist()
    assert len(table) == len(stored)
    for row in table:
        assert (row["labelled_at"], row["served_at"]) == stored[row["label_id"]]


def test_the_background_sink_keeps_order_and_raises_a_target_failure():
    import io

    from collection.exports.writers import BackgroundSink

    target = io.BytesIO()
    with BackgroundSink(target, piece=10, queued=2) as sink:
        for i in range(1000):
            sink.write(f"{i},".encode())
    assert target.getvalue() == "".join(f"{i}," for i in range(1000)).encode()

    class Broken(io.BytesIO):
        def write(self, data):
            raise OSError("disk full")

    # The failure comes from a later write or from close(): either way, it is raised.
    with pytest.raises(OSError, match="disk full"), BackgroundSink(Broken(), 10, 2) as sink:
        for _ in range(1000):
            sink.write(b"0123456789")


def test_the_arrow_jsonl_encoder_writes_exactly_what_orjson_writes():
    """The columnar encoder against orjson, row by row, on what breaks encoders:
    quotes, backslashes, control characters, line separators, emoji, empty values,
    whole and tiny floats, NaN, dictionary texts and the conversational turns."""
    import orjson
    import pyarrow as pa

    from collection.exports.columns import MESSAGES
    from collection.exports.jsonl import jsonl_bytes, jsonl_pieces

    texts = ['quo"te\\ \t\n\r\x7f', "\u0000\u001f\u2028 é 🎉", "", None, "plain"]
    turns = pa.ListArray.from_arrays(
        pa.array(range(len(texts) + 1), pa.int32()),
        pa.StructArray.from_arrays(
            [pa.array(["user"] * len(texts)), pa.array(texts)], fields=list(MESSAGES.value_type)
        ),
    )
    table = pa.table(
        {
            "text": texts,
            # Nothing to escape: written without orjson, as the same text.
            "stamp": ["2026-12-04T05:00:00.123456+00:00", None, "é ok 🎉", "", "a b"],
            "shared": pa.DictionaryArray.from_arrays(
                pa.array([1, 0, 1, 2, 0]), pa.array(texts[:3])
            ),
            "weight": [100.0, 1 / 3, None, 1e-7, 1e20],
            "y": [float("nan"), 0.0, 1.0, 0.5, 2.5e-5],
            "n": pa.array([1, None, -3, 0, 2**40], pa.int64()),
            "flag": [True, None, False, True, False],
            "prompt": turns,
        }
    )
    expected = b"".join(
        orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE) for row in table.to_pylist()
    )
    assert bytes(jsonl_bytes(table)) == expected
    # Through the pieces, where runs of repetitive columns are encoded once per table:
    # here every column but the turns, which come last, or first (then the run does not
    # open the object).
    many = pa.concat_tables([table] * 10)
    names = many.column_names
    for columns in (names, names[1:], ["prompt", *names[:-1]]):
        pieces = jsonl_pieces(many.select(columns))
        assert len(pieces[0].column_names) == 2
        lines = b"".join(bytes(jsonl_bytes(p)) for p in pieces)
        assert lines == b"".join(
            orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE)
            for row in many.select(columns).to_pylist()
        )
    assert bytes(jsonl_bytes(table.slice(2, 2))) == b"".join(expected.splitlines(True)[2:4])
    two_turns = pa.ListArray.from_arrays(pa.array([0, 2], pa.int32()), turns.flatten()[:2])
    with pytest.raises(ValueError, match="one element per row"):
        jsonl_bytes(pa.table({"prompt": two_turns}))


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["jsonl", "parquet"])
def test_a_study_of_only_left_out_ties_exports_its_label_table(stimulus_set, tmp_path, file_format):
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=2, ties="exclude")
    labelled(study, [("tie", 1), ("tie", 2)])
    written, data, book, _ = bundle(study, tmp_path, "labels", file_format)
    loaded = load(data, file_format, tmp_path)
    assert loaded.num_rows == written.rows == 2 and loaded["y"] == [None, None]
    assert loaded.column_names == list(book)
    written, *_ = bundle(study, tmp_path, "trl", file_format)
    assert written.rows == 0 and written.counts["ties_without_rows"] == 2


def test_the_jsonl_entry_is_deflated_by_isal_and_unzips_with_zlib(tmp_path):
    from collection.exports.services import _deflate_with_isal

    text = b"".join(b'{"n": %d, "text": "the same answer again"}\n' % i for i in range(5000))
    out = tmp_path / "x.zip"
    with (
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle,
        bundle.open("data.jsonl", "w") as entry,
    ):
        _deflate_with_isal(entry)
        assert type(entry._compressor).__module__.startswith("isal")
        entry.write(text)
    with zipfile.ZipFile(out) as bundle:
        assert bundle.read("data.jsonl") == text  # the standard library checks the CRC
        assert bundle.getinfo("data.jsonl").compress_size < len(text) / 5


def test_exports_allocate_from_jemalloc_which_hands_memory_back():
    import os

    import pyarrow as pa

    import collection.exports  # noqa: F401  (configures Arrow on import)

    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        pytest.skip("ARROW_DEFAULT_MEMORY_POOL is set: the environment chooses Arrow's pool")
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this pyarrow has no jemalloc (Windows): its default pool stays")
    assert pa.default_memory_pool().backend_name == "jemalloc"


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["jsonl", "parquet"])
@pytest.mark.parametrize("fmt", LABEL_FORMATS)
def test_a_study_without_labels_exports_an_empty_file_with_its_card(
    study, tmp_path, fmt, file_format
):
    import pyarrow.parquet as pq

    written, data, book, card = bundle(study, tmp_path, fmt, file_format)
    assert written.rows == 0 and written.counts["labels"] == 0
    if file_format == "parquet":
        assert pq.read_table(data).column_names == list(book)
    else:
        assert data.read_bytes() == b""
    assert "## Randomisation" in card


@pytest.mark.django_db
def test_the_labels_come_in_id_order_and_the_sort_setting_does_not_outlive_the_export(
    stimulus_set, tmp_path
):
    """PostgreSQL streams the labels with its sort switched off for the query; the
    caller's transaction (here the test's) gets the setting back."""
    from django.db import connection

    from tests.services import HOW_TO_RUN_SERVICES, require

    require(connection.vendor == "postgresql", "PostgreSQL", HOW_TO_RUN_SERVICES)
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=4)
    for _ in range(3):
        labelled(study, [("left", 1), ("right", 2), ("left", 3), ("right", 1)])
    _, data, _, _ = bundle(study, tmp_path, "labels", "jsonl")
    ids = [row["label_id"] for row in jsonl_rows(data)]
    assert ids == sorted(Label.objects.filter(study=study).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_sort")
        assert cursor.fetchone() == ("on",)
