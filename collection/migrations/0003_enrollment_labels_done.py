from django.db import migrations, models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce


def labels_done_backfill(apps, schema_editor):
    # Enrollments that labelled before the counter existed start from their true count.
    Enrollment = apps.get_model("collection", "Enrollment")
    Label = apps.get_model("collection", "Label")
    counts = (
        Label.objects.filter(assignment__enrollment=OuterRef("pk"), supersedes__isnull=True)
        .order_by()
        .values("assignment__enrollment")
        .annotate(n=Count("id"))
        .values("n")
    )
    Enrollment.objects.filter(
        Q(pk__in=Label.objects.values("assignment__enrollment"))
    ).update(labels_done=Coalesce(Subquery(counts), 0))


class Migration(migrations.Migration):
    dependencies = [
        ("collection", "0002_assignment_engine_pool"),
    ]

    operations = [
        migrations.AddField(
            model_name="enrollment",
            name="labels_done",
            field=models.PositiveIntegerField(
                default=0,
                help_text="Labels given (not counting corrections), counted by the label "
                "service in the transaction that stores each one; the quota and progress "
                "read it.",
            ),
        ),
        migrations.RunPython(labels_done_backfill, migrations.RunPython.noop),
    ]
