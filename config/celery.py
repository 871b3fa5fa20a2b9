import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("counterpoint")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Counted in Redis for /metrics; imported here so that every worker connects the signals.
import config.task_metrics  # noqa: E402, F401
