"""Make a researcher's API token and print it (shown this once)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from collection.services.api_tokens import api_token_create


class Command(BaseCommand):
    help = "Print a new API token for a researcher (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="What the token is for.")

    def handle(self, *args, username: str, name: str, **options):
        user = get_user_model().objects.filter(username=username, is_staff=True).first()
        if user is None:
            raise CommandError(
                f"no researcher account is called {username!r}; make one with "
                "`manage.py researcher_create`"
            )
        _, token = api_token_create(user=user, name=name)
        self.stdout.write(token)
