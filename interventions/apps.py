from django.apps import AppConfig


class InterventionsConfig(AppConfig):
    name = "interventions"
    default_auto_field = "django.db.models.BigAutoField"
