"""Which reward models a researcher may use: their own; superusers every one."""

from django.db.models import QuerySet

from audit.models import RewardModel
from collection.access import User


def reward_models_usable(*, user: User) -> QuerySet[RewardModel]:
    if not (user.is_authenticated and getattr(user, "is_staff", False)):
        return RewardModel.objects.none()
    if getattr(user, "is_superuser", False):
        return RewardModel.objects.all()
    return RewardModel.objects.filter(owner_id=user.pk)
