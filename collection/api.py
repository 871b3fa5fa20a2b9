"""Annotator HTTP API: fetch the next pair, submit a label. Thin: each calls one service.

Authentication is the signed enrollment cookie the entry page sets
(``collection.enrollment_cookie``), with Django's CSRF check enforced on every request,
as for the pages.
"""

import io

from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication, CSRFCheck
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from collection.enrollment_cookie import COOKIE, enrollment_cookie_read
from collection.errors import EnrollmentNotReady, LabelRejected
from collection.models import Assignment, Study
from collection.rendering import markdown_render
from collection.selectors import pair_texts
from collection.serializers import (
    CheckInSerializer,
    ErrorSerializer,
    LabelInSerializer,
    LabelOutSerializer,
    NextOutSerializer,
)
from collection.services import LabelResult, assignment_next, check_answer_submit, label_submit
from collection.throttles import EnrollmentRateThrottle
from interventions.validation import DEFAULT_SAME_QUESTION, check_question_for_stimulus

# Largest body the label endpoint reads: a rationale of 5,000 characters (up to 4 bytes
# each in UTF-8) plus the other fields. Anything larger is refused before parsing.
MAX_BODY_BYTES = 24_000
# A label is a flat object; Python's JSON parser recurses once per level, so a deeply
# nested body would reach the interpreter's recursion limit (a 500) if parsed.
MAX_JSON_DEPTH = 16


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text, strings skipped."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


class BoundedJSONParser(JSONParser):
    """JSON, refused with a 400 that says why when nested deeper than MAX_JSON_DEPTH."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        if json_depth(body) > MAX_JSON_DEPTH:
            raise exceptions.ParseError(
                f"JSON nested deeper than {MAX_JSON_DEPTH} levels; send a flat object"
            )
        return super().parse(io.BytesIO(body), media_type, parser_context)


class AnnotatorPrincipal:
    """The request's annotator, as DRF's ``request.user``: their enrollment in the study."""

    is_authenticated = True

    def __init__(self, enrollment_id: int):
        self.enrollment_id = enrollment_id


class EnrollmentCookieAuthentication(BaseAuthentication):
    """The enrollment the signed cookie names for the URL's study. Nothing is read from
    the session or the database here: the services check the enrollment (consent,
    questionnaire, quota) under its row lock."""

    def authenticate(self, request: Request):
        slug = request.parser_context["kwargs"].get("slug", "")
        pk = enrollment_cookie_read(request._request, slug=slug)
        if pk is None:
            return None
        self._enforce_csrf(request._request)
        return AnnotatorPrincipal(pk), None

    def _enforce_csrf(self, request: HttpRequest) -> None:
        check = CSRFCheck(lambda req: None)
        check.process_request(request)
        reason = check.process_view(request, None, (), {})
        if reason:
            raise exceptions.PermissionDenied(f"CSRF failed: {reason}")

    def authenticate_header(self, request: Request) -> str:
        # A header makes DRF answer 401 (not 403) to a request without the cookie.
        return 'Cookie realm="annotator"'


class EnrollmentCookieScheme(OpenApiAuthenticationExtension):
    target_class = EnrollmentCookieAuthentication
    name = "annotatorEnrollment"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": COOKIE,
            "description": "The signed cookie the study's entry page sets; send the "
            "X-CSRFToken header (the csrftoken cookie's value) as well.",
        }


class IsEnrolledAnnotator(BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, AnnotatorPrincipal)


class JSONOnly(BaseContentNegotiation):
    """No negotiation: the view's first parser and renderer, whatever the request says.
    The annotator API reads and writes JSON only (a body that is not JSON gets the JSON
    parser's 400); the researcher API's export download sends its zip, and its errors as
    JSON, to any Accept header."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AnnotatorAPIView(APIView):
    authentication_classes = [EnrollmentCookieAuthentication]
    permission_classes = [IsEnrolledAnnotator]
    parser_classes = [BoundedJSONParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONOnly

    def permission_denied(self, request, message=None, code=None):
        raise exceptions.NotAuthenticated(
            "this browser is not enrolled in the study: open its entry link first"
        )

    def enrollment_id(self, request: Request) -> int:
        return request.user.enrollment_id


def _pair(assignment: Assignment, *, pretest: bool) -> dict:
    texts = pair_texts(assignment=assignment)
    body = {
        "assignment_id": assignment.pk,
        "prompt_html": markdown_render(texts.prompt),
        "left_html": markdown_render(texts.left),
        "right_html": markdown_render(texts.right),
        "expires_at": assignment.expires_at,
    }
    if pretest:
        body["questions"] = {
            "identified": check_question_for_stimulus(stimulus_id=assignment.stimulus_id),
            "same_meaning": DEFAULT_SAME_QUESTION,
        }
    return body


def _next_body(enrollment_id: int) -> dict:
    result = assignment_next(enrollment_id=enrollment_id)
    return {
        "status": result.status,
        "pair": _pair(result.assignment, pretest=result.study_kind == Study.Kind.PRETEST)
        if result.assignment
        else None,
        "completion_code": result.completion_code,
        "progress": {"done": result.labels_done, "total": result.labels_total},
    }


# The bodies are built as plain dicts, which the serializers in extend_schema describe
# for the OpenAPI schema: serializing them through DRF fields cost 5% of a cycle.


class NextPairView(AnnotatorAPIView):
    @extend_schema(
        request=None,
        responses={200: NextOutSerializer, 401: ErrorSerializer, 403: ErrorSerializer},
        summary="The annotator's open pair, or the next one drawn by the study's design.",
    )
    def post(self, request: Request, slug: str) -> Response:
        try:
            return Response(_next_body(self.enrollment_id(request)))
        except EnrollmentNotReady as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)


JUDGEMENT_RESPONSES = {
    201: LabelOutSerializer,
    200: OpenApiResponse(LabelOutSerializer, description="a replay: the original"),
    400: ErrorSerializer,
    401: OpenApiResponse(ErrorSerializer, description="not enrolled in this study"),
    403: OpenApiResponse(ErrorSerializer, description="CSRF token missing or wrong"),
    409: OpenApiResponse(
        ErrorSerializer,
        description="expired, foreign or labelled, or the other kind of study's endpoint",
    ),
    413: ErrorSerializer,
    429: OpenApiResponse(ErrorSerializer, description="too many labels: see Retry-After"),
}


class JudgementView(AnnotatorAPIView):
    """A POST of one judgement of an open assignment: bounded, validated by a serializer
    with one error shape, stored by one service, 201 (or 200 for a replay)."""

    throttle_classes = [EnrollmentRateThrottle]
    serializer_class: type[serializers.Serializer]

    def submit(self, enrollment_id: int, data: dict) -> LabelResult:
        raise NotImplementedError

    def post(self, request: Request, slug: str) -> Response:
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            return Response(
                {"detail": f"the body must be at most {MAX_BODY_BYTES} bytes"},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        if not isinstance(request.data, dict):
            raise exceptions.ParseError("send a JSON object with the judgement's fields")
        incoming = self.serializer_class(data=request.data)
        if not incoming.is_valid():
            # One body shape for every error (ErrorSerializer): a sentence, and per field.
            fields = {
                name: [str(m) for m in messages] for name, messages in incoming.errors.items()
            }
            summary = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in fields.items())
            return Response(
                {"detail": f"fix these fields: {summary}", "errors": fields},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            result = self.submit(self.enrollment_id(request), incoming.validated_data)
        except LabelRejected as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        body = {
            "label_id": result.label.pk,
            "replayed": result.replayed,
            "completed": result.completed,
            "completion_code": result.completion_code,
            "progress": {"done": result.labels_done, "total": result.labels_total},
        }
        if not result.completed:
            # The next pair rides on this response: one round trip per label, not two.
            try:
                body["next"] = _next_body(self.enrollment_id(request))
            except EnrollmentNotReady:
                body["next"] = None  # the label stands; the client asks next/ itself
        code = status.HTTP_200_OK if result.replayed else status.HTTP_201_CREATED
        return Response(body, status=code)


class LabelView(JudgementView):
    serializer_class = LabelInSerializer

    def submit(self, enrollment_id: int, data: dict) -> LabelResult:
        return label_submit(enrollment_id=enrollment_id, **data)

    @extend_schema(
        request=LabelInSerializer,
        responses=JUDGEMENT_RESPONSES,
        summary="Submit a label for an open assignment; idempotent on submission_id.",
    )
    def post(self, request: Request, slug: str) -> Response:
        return super().post(request, slug)


class CheckAnswerView(JudgementView):
    serializer_class = CheckInSerializer

    def submit(self, enrollment_id: int, data: dict) -> LabelResult:
        return check_answer_submit(enrollment_id=enrollment_id, **data)

    @extend_schema(
        request=CheckInSerializer,
        responses=JUDGEMENT_RESPONSES,
        summary="Pretests: submit the check answers for an open assignment; idempotent on "
        "submission_id.",
    )
    def post(self, request: Request, slug: str) -> Response:
        return super().post(request, slug)
