"""Create a researcher account: staff, in the Researchers group, no superuser rights."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from collection.roles import researcher_group_sync


class Command(BaseCommand):
    help = (
        "Create a researcher who can build and run their own studies in the admin and see "
        "only the studies they own or are granted. Prints a generated password."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")

    def handle(self, *args, username: str, email: str, **options):
        users = get_user_model()
        if users.objects.filter(username=username).exists():
            raise CommandError(f"a user called {username!r} exists already; pick another name")
        password = secrets.token_urlsafe(12)
        user = users.objects.create_user(
            username=username, email=email, password=password, is_staff=True
        )
        user.groups.add(researcher_group_sync())
        self.stdout.write(f"researcher {username!r} created; password: {password}")
