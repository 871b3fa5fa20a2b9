"""Writes for a running study. Every interface (pages, API, admin, tasks, commands)
calls these."""

from collection.pool import study_slots_build
from collection.services.assignments import (
    AssignmentNext,
    assignment_expire,
    assignment_next,
    assignments_release,
)
from collection.services.enrollments import (
    enrollment_consent,
    enrollment_decline,
    enrollment_return,
    enrollment_start,
    study_pause,
)
from collection.services.labels import LabelResult, check_answer_submit, label_submit

__all__ = [
    "AssignmentNext",
    "LabelResult",
    "assignment_expire",
    "assignment_next",
    "assignments_release",
    "check_answer_submit",
    "enrollment_consent",
    "enrollment_decline",
    "enrollment_return",
    "enrollment_start",
    "label_submit",
    "study_pause",
    "study_slots_build",
]
