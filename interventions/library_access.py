"""Who sees and changes what in the interventions library.

A researcher sees and changes what they imported or made: their prompts (and the
responses under them), their stimulus sets (and the stimuli in them) and their own
interventions. The built-in catalogue (interventions without an owner) is shared: every
researcher sees and uses it, only an administrator changes it. Superusers see all.
Nothing of another researcher's library is listed, opened or offered in a form."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Model, Q, QuerySet

from interventions.models import Intervention, Prompt, StimulusSet

User = AbstractBaseUser | AnonymousUser


def _superuser(user: User) -> bool:
    return bool(getattr(user, "is_superuser", False) and user.is_active)


def owned_filter(user: User, owner_path: str, *, shared_when_unowned: bool = False) -> Q:
    """The rows of a library model the user may see (``owner_path`` leads to the owner)."""
    if _superuser(user):
        return Q()
    if not user.is_authenticated:
        return Q(pk__in=[])
    mine = Q(**{owner_path: user.pk})
    return mine | Q(**{f"{owner_path}__isnull": True}) if shared_when_unowned else mine


def owns(user: User, obj: Model, owner_path: str) -> bool:
    """True if the user may change this row: a superuser, or the row's owner."""
    if _superuser(user):
        return True
    if not user.is_authenticated or obj.pk is None:
        return False
    rows = type(obj)._default_manager.filter(pk=obj.pk, **{owner_path: user.pk})
    return rows.exists()


def prompt_sources_usable(*, user: User) -> list[str]:
    """Response sources a researcher may generate a stimulus set from: their imports."""
    prompts = Prompt.objects.filter(owned_filter(user, "owner"))
    return sorted(set(prompts.values_list("source", flat=True)))


def interventions_usable(*, user: User) -> QuerySet[Intervention]:
    return Intervention.objects.filter(owned_filter(user, "owner", shared_when_unowned=True))


def stimulus_sets_owned(*, user: User) -> QuerySet[StimulusSet]:
    return StimulusSet.objects.filter(owned_filter(user, "owner"))
