"""Who may read or change a study, and everything recorded under it.

The single source of truth for researcher access: the admin, the results page, exports
and the API ask here. A study is readable by its owners and its collaborators (any
role), editable by its owners and collaborators with the edit role; superusers see all.
Nobody else sees that the study exists.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from annotators.models import CovariateSchema
from collection.models import Study, StudyAccess

User = AbstractBaseUser | AnonymousUser


def _researcher(user: User) -> bool:
    return bool(
        user.is_authenticated
        and user.pk is not None
        and user.is_active
        and getattr(user, "is_staff", False)
    )


def _studies(user: User, roles: list[str]) -> QuerySet[Study]:
    if not _researcher(user):
        return Study.objects.none()
    if getattr(user, "is_superuser", False):
        return Study.objects.all()
    pk = int(user.pk)  # type: ignore[arg-type]  # a saved researcher's
    granted = StudyAccess.objects.filter(user_id=pk, role__in=roles).values("study_id")
    return Study.objects.filter(Q(owners=pk) | Q(pk__in=granted)).distinct()


def studies_readable(*, user: User) -> QuerySet[Study]:
    return _studies(user, [StudyAccess.Role.READ, StudyAccess.Role.EDIT])


def studies_editable(*, user: User) -> QuerySet[Study]:
    return _studies(user, [StudyAccess.Role.EDIT])


def study_readable(*, user: User, study_id: int) -> bool:
    return studies_readable(user=user).filter(pk=study_id).exists()


def study_editable(*, user: User, study_id: int) -> bool:
    return studies_editable(user=user).filter(pk=study_id).exists()


def study_for_reader(*, user: User, slug: str) -> Study | None:
    """The study with this slug if the user may read it; None whether it does not exist
    or is not theirs, so the answer reveals nothing."""
    return studies_readable(user=user).filter(slug=slug).first()


def covariate_schemas_usable(*, user: User) -> QuerySet[CovariateSchema]:
    """Questionnaires a researcher may see and attach: their own, and those of studies
    they can read."""
    if not _researcher(user):
        return CovariateSchema.objects.none()
    if getattr(user, "is_superuser", False):
        return CovariateSchema.objects.all()
    used = studies_readable(user=user).values("covariate_schema_id")
    return CovariateSchema.objects.filter(Q(owner_id=user.pk) | Q(pk__in=used))
