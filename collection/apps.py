from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CollectionConfig(AppConfig):
    name = "collection"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from collection.roles import researcher_group_sync

        # After every app's permissions exist (they are created on post_migrate too).
        post_migrate.connect(researcher_group_sync, dispatch_uid="researcher_group_sync")
