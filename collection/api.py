"""Annotator HTTP API: fetch the next pair, submit a label. Thin: each calls one service.

Authentication is the annotator's page session (key ``enrollment:<slug>``, set by the
entry page), with Django's CSRF check enforced on every request, as for the pages.
"""

from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication, CSRFCheck
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from collection.errors import LabelRejected
from collection.models import Assignment, Enrollment
from collection.rendering import markdown_render
from collection.selectors import assignment_for_display, enrollment_progress
from collection.serializers import (
    ErrorSerializer,
    LabelInSerializer,
    LabelOutSerializer,
    NextOutSerializer,
)
from collection.services import assignment_next, label_submit

# Largest body the label endpoint reads: a rationale of 5,000 characters (up to 4 bytes
# each in UTF-8) plus the other fields. Anything larger is refused before parsing.
MAX_BODY_BYTES = 24_000


class AnnotatorPrincipal:
    """The request's annotator, as DRF's ``request.user``."""

    is_authenticated = True

    def __init__(self, enrollment: Enrollment):
        self.enrollment = enrollment


class EnrollmentSessionAuthentication(BaseAuthentication):
    def authenticate(self, request: Request):
        slug = request.parser_context["kwargs"].get("slug", "")
        pk = request._request.session.get(f"enrollment:{slug}")
        if pk is None:
            return None
        enrollment = Enrollment.objects.select_related("study", "annotator").filter(pk=pk).first()
        if enrollment is None or enrollment.study.slug != slug:
            return None
        self._enforce_csrf(request._request)
        return AnnotatorPrincipal(enrollment), None

    def _enforce_csrf(self, request: HttpRequest) -> None:
        check = CSRFCheck(lambda req: None)
        check.process_request(request)
        reason = check.process_view(request, None, (), {})
        if reason:
            raise exceptions.PermissionDenied(f"CSRF failed: {reason}")

    def authenticate_header(self, request: Request) -> str:
        # A header makes DRF answer 401 (not 403) to a request without a session.
        return 'Session realm="annotator"'


class EnrollmentSessionScheme(OpenApiAuthenticationExtension):
    target_class = EnrollmentSessionAuthentication
    name = "annotatorSession"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "The session the entry page sets; send X-CSRFToken as well.",
        }


class IsConsentedAnnotator(BasePermission):
    message = "consent to the study on its entry page before requesting pairs"

    def has_permission(self, request, view) -> bool:
        principal = request.user
        return isinstance(principal, AnnotatorPrincipal) and (
            principal.enrollment.consented_at is not None
        )


class AnnotatorAPIView(APIView):
    authentication_classes = [EnrollmentSessionAuthentication]
    permission_classes = [IsConsentedAnnotator]

    def enrollment(self, request: Request) -> Enrollment:
        return request.user.enrollment

    def _progress(self, enrollment: Enrollment) -> dict:
        progress = enrollment_progress(enrollment=enrollment)
        return {"done": progress.done, "total": progress.total}

    def _completion_code(self, enrollment: Enrollment) -> str | None:
        enrollment.refresh_from_db(fields=["completed_at"])
        return enrollment.study.completion_code if enrollment.completed_at else None


def _pair(assignment: Assignment) -> dict:
    assignment = assignment_for_display(assignment_id=assignment.pk)
    stimulus = assignment.stimulus
    treated, control = stimulus.treated.text, stimulus.control.text
    left, right = (treated, control) if assignment.treated_on_left else (control, treated)
    return {
        "assignment_id": assignment.pk,
        "prompt_html": markdown_render(stimulus.prompt.text),
        "left_html": markdown_render(left),
        "right_html": markdown_render(right),
        "expires_at": assignment.expires_at,
    }


class NextPairView(AnnotatorAPIView):
    @extend_schema(
        request=None,
        responses={200: NextOutSerializer, 401: ErrorSerializer, 403: ErrorSerializer},
        summary="The annotator's open pair, or the next one drawn by the study's design.",
    )
    def post(self, request: Request, slug: str) -> Response:
        enrollment = self.enrollment(request)
        assignment = assignment_next(enrollment=enrollment)
        if assignment is not None:
            body = {"status": "pair", "pair": _pair(assignment), "completion_code": None}
        else:
            code = self._completion_code(enrollment)
            body = {"status": "done" if code else "no_work", "pair": None, "completion_code": code}
        body["progress"] = self._progress(enrollment)
        return Response(NextOutSerializer(body).data)


class LabelView(AnnotatorAPIView):
    @extend_schema(
        request=LabelInSerializer,
        responses={
            201: LabelOutSerializer,
            200: OpenApiResponse(LabelOutSerializer, description="a replay: the original"),
            400: ErrorSerializer,
            409: OpenApiResponse(ErrorSerializer, description="expired, foreign or labelled"),
            413: ErrorSerializer,
        },
        summary="Submit a label for an open assignment; idempotent on submission_id.",
    )
    def post(self, request: Request, slug: str) -> Response:
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            return Response(
                {"detail": f"the body must be at most {MAX_BODY_BYTES} bytes"},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        if not isinstance(request.data, dict):
            raise exceptions.ParseError("send a JSON object with the label's fields")
        incoming = LabelInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        enrollment = self.enrollment(request)
        try:
            result = label_submit(annotator=enrollment.annotator, **incoming.validated_data)
        except LabelRejected as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        body = {
            "label_id": result.label.pk,
            "replayed": result.replayed,
            "completed": result.completed,
            "completion_code": enrollment.study.completion_code if result.completed else None,
            "progress": {
                "done": result.labels_done,
                "total": enrollment.study.labels_per_annotator,
            },
        }
        code = status.HTTP_200_OK if result.replayed else status.HTTP_201_CREATED
        return Response(LabelOutSerializer(body).data, status=code)
