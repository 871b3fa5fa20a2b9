"""Practice pairs: the researcher's worked examples, answered with feedback before the
study's own pairs. Their answers are kept apart from labels and never counted."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from collection.models import Enrollment, PracticeAnswer, PracticePair


@dataclass(frozen=True)
class PracticeStep:
    pair: PracticePair
    number: int  # 1-based
    total: int


def practice_next(*, enrollment: Enrollment) -> PracticeStep | None:
    """The first practice pair this participant has not answered, or None."""
    pairs = list(PracticePair.objects.filter(study_id=enrollment.study_id))
    answered = set(
        PracticeAnswer.objects.filter(enrollment=enrollment).values_list("practice_id", flat=True)
    )
    for number, pair in enumerate(pairs, start=1):
        if pair.pk not in answered:
            return PracticeStep(pair=pair, number=number, total=len(pairs))
    return None


def practice_answer(*, enrollment: Enrollment, practice_id: int, choice: str) -> PracticeAnswer:
    """Store the answer (the first one stands: a resent form changes nothing) and, after
    the last pair, mark the practice done so the study's pairs can be served."""
    pair = PracticePair.objects.get(pk=practice_id, study_id=enrollment.study_id)
    try:
        with transaction.atomic():
            answer = PracticeAnswer.objects.create(
                enrollment=enrollment,
                practice=pair,
                choice=choice,
                correct=choice == pair.expected,
            )
    except IntegrityError:
        answer = PracticeAnswer.objects.get(enrollment=enrollment, practice=pair)
    if practice_next(enrollment=enrollment) is None:
        Enrollment.objects.filter(pk=enrollment.pk, practice_done_at__isnull=True).update(
            practice_done_at=timezone.now()
        )
    return answer
