"""Who may ask for and download an export: the readers of its study (collection.access);
anyone else gets the same 404 as for an export that does not exist."""

import zipfile

import pytest
from django.urls import reverse

from collection.exports.services import export_build, export_request
from collection.models import Export, StudyAccess
from tests.collection.test_export import labelled
from tests.factories import researcher_make


@pytest.fixture
def people(study):
    owner, reader, stranger = (researcher_make(n) for n in ("ow", "rd", "st"))
    study.owners.add(owner)
    StudyAccess.objects.create(study=study, user=reader, role="read", granted_by=owner)
    return owner, reader, stranger


@pytest.mark.django_db
def test_the_admin_page_queues_an_export_that_readers_download_and_strangers_cannot_see(
    client, study, people
):
    owner, reader, stranger = people
    labelled(study, [("left", 1), ("tie", 1), ("right", 2)])
    page = reverse("admin:collection_study_exports", args=[study.pk])
    client.force_login(reader)
    response = client.post(
        page,
        {"format": "kto", "file_format": "parquet", "exclude_attention_failures": "on"},
    )
    assert response.status_code == 302
    export = Export.objects.get(study=study)
    assert (export.format, export.file_format, export.status) == ("kto", "parquet", "queued")
    assert export.requested_by == reader
    assert export.options == {
        "exclude_ties": False,
        "exclude_attention_checks": False,
        "exclude_attention_failures": True,
        "min_attention_share": None,
    }
    download = reverse("exports:download", args=[export.pk])
    # Not built yet: nothing to download.
    assert client.get(download).status_code == 404
    built = export_build(export_id=export.pk)
    assert (built.status, built.rows, built.labels) == ("done", 4, 3)
    assert built.counts["ties_without_rows"] == 1 and len(built.sha256) == 64
    listing = client.get(page).content.decode()
    assert download in listing and "kto" in listing
    for user in (owner, reader):
        client.force_login(user)
        response = client.get(download)
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        body = b"".join(response.streaming_content)
        assert body[:2] == b"PK"
    client.force_login(stranger)
    missing = reverse("exports:download", args=[export.pk + 1000])
    assert client.get(download).status_code == client.get(missing).status_code == 404
    assert client.get(page).status_code == 404
    assert client.post(page, {"format": "trl", "file_format": "jsonl"}).status_code == 404
    assert Export.objects.count() == 1
    client.logout()
    assert client.get(download).status_code == 302  # to the admin login


@pytest.mark.django_db
def test_a_bad_form_says_what_to_fix_and_queues_nothing(client, study, people):
    client.force_login(people[0])
    page = reverse("admin:collection_study_exports", args=[study.pk])
    response = client.post(page, {"format": "dpo", "file_format": "jsonl"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    response = client.post(
        page, {"format": "trl", "file_format": "jsonl", "min_attention_share": "1.5"}
    )
    assert "less than or equal to 1" in response.content.decode()
    assert not Export.objects.exists()


@pytest.mark.django_db
def test_the_bundle_on_disk_has_the_recorded_digest(study, people, tmp_path):
    import hashlib

    from collection.exports.services import export_file

    labelled(study, [("left", 1), ("right", 1)])
    export = export_request(study=study, requested_by=people[0], format="trl", file_format="jsonl")
    export = export_build(export_id=export.pk)
    path = export_file(export)
    assert path is not None and hashlib.sha256(path.read_bytes()).hexdigest() == export.sha256
    with zipfile.ZipFile(path) as z:
        assert "No estimate was available" in z.read("DATACARD.md").decode()
    # A finished export is never rebuilt.
    assert export_build(export_id=export.pk).sha256 == export.sha256
