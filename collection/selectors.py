"""Reads for a running study."""

from dataclasses import dataclass

from collection.models import Enrollment, Label


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.total)) if self.total else 100


def enrollment_progress(*, enrollment: Enrollment) -> Progress:
    done = Label.objects.filter(assignment__enrollment=enrollment, supersedes__isnull=True).count()
    return Progress(done=done, total=enrollment.study.labels_per_annotator)
