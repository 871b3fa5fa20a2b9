"""Token authentication and the researcher permission of the REST API."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle

from collection.services.api_tokens import api_token_user


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <token>``, a token made in the admin (API tokens)."""

    def authenticate(self, request: Request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise exceptions.AuthenticationFailed(
                "send the token as 'Authorization: Bearer <token>'"
            )
        user = api_token_user(token=token)
        if user is None:
            raise exceptions.AuthenticationFailed(
                "unknown or revoked token: make a new one in the admin (API tokens)"
            )
        return user, None

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token made in the admin (API tokens), shown once.",
        }


class IsResearcher(BasePermission):
    message = "only researchers (staff accounts) may use this API"

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff)


class ResearcherRateThrottle(UserRateThrottle):
    scope = "researcher_api"


AUTHENTICATION = [ApiTokenAuthentication, SessionAuthentication]
