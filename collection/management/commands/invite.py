"""Make single-use invitation links for a study and print them (shown this once)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from collection.models import Study
from collection.services.invitations import (
    MAX_INVITATIONS_AT_ONCE,
    invitation_link,
    invitations_create,
)


class Command(BaseCommand):
    help = "Print N single-use invitation links to a study (only their hashes are stored)."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The study's slug.")
        parser.add_argument("--count", type=int, default=1)
        parser.add_argument("--note", default="", help="For you: whom the links are for.")

    def handle(self, *args, slug: str, count: int, note: str, **options):
        study = Study.objects.filter(slug=slug).first()
        if study is None:
            raise CommandError(f"no study has the slug {slug!r}; see the admin's Studies list")
        if not 1 <= count <= MAX_INVITATIONS_AT_ONCE:
            raise CommandError(f"--count must be between 1 and {MAX_INVITATIONS_AT_ONCE}")
        entry = settings.SITE_URL.rstrip("/") + reverse("collection:entry", args=[slug])
        for token in invitations_create(study=study, count=count, note=note):
            self.stdout.write(invitation_link(base_entry_url=entry, token=token))
