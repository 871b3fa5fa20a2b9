"""The researcher role: one group with exactly the model permissions a researcher needs.

Which rows a researcher sees is decided per study (collection.access); these permissions
only say which kinds of record the admin offers. Research records (enrollments,
assignments, labels, answers, consents, estimates) are view-only: they are append-only
and nobody edits them through the admin. Other apps add their models' permissions
through ``RESEARCHER_PERMISSIONS`` entries of their own.
"""

from django.apps import apps as global_apps
from django.contrib.auth.models import Group, Permission

RESEARCHER_GROUP = "Researchers"

# app label -> model -> actions
RESEARCHER_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "collection": {
        "study": ("view", "add", "change"),
        "studyaccess": ("view", "add", "change", "delete"),
        "enrollment": ("view",),
        "assignment": ("view",),
        "label": ("view",),
        "practicepair": ("view", "add", "change", "delete"),
        "practiceanswer": ("view",),
        "invitation": ("view", "add"),
        "apitoken": ("view", "add"),
        "webhook": ("view", "add", "change", "delete"),
        "webhookdelivery": ("view",),
    },
    "annotators": {
        "covariateschema": ("view", "add", "change"),
        "annotator": ("view",),
        "covariateresponse": ("view",),
        "consentrecord": ("view",),
    },
    "interventions": {
        "prompt": ("view", "add"),
        "response": ("view",),
        "intervention": ("view", "add", "change"),
        "stimulusset": ("view", "add", "change"),
        "stimulus": ("view",),
    },
    "analysis": {
        "estimate": ("view",),
        "refreshrun": ("view",),
    },
}


def researcher_group_sync(**_: object) -> Group:
    """Create or update the group so it holds exactly RESEARCHER_PERMISSIONS (idempotent;
    runs after every migrate)."""
    group, _created = Group.objects.get_or_create(name=RESEARCHER_GROUP)
    wanted = [
        (app, f"{action}_{model}")
        for app, models in RESEARCHER_PERMISSIONS.items()
        if global_apps.is_installed(app)
        for model, actions in models.items()
        for action in actions
    ]
    permissions = [
        p
        for p in Permission.objects.filter(
            content_type__app_label__in={app for app, _ in wanted},
            codename__in={codename for _, codename in wanted},
        ).select_related("content_type")
        if (p.content_type.app_label, p.codename) in wanted
    ]
    group.permissions.set(permissions)
    return group
