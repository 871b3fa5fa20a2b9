from django.core.management.base import BaseCommand

from interventions.services import interventions_install_builtin


class Command(BaseCommand):
    help = "Create the built-in interventions (transform, direction, dose and check) missing."

    def handle(self, *args, **options):
        created = interventions_install_builtin()
        self.stdout.write(f"created {created} built-in interventions")
