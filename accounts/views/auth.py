"""``auth/*`` endpoints (contract §5 "Authentication"). Thin: each parses input, calls one service."""

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema

from majed_vanna.api.viewsets import BaseAPIView

from .. import selectors, services
from ..serializers import (
    ChangePasswordInputSerializer,
    LoginInputSerializer,
    LoginOutputSerializer,
    LogoutInputSerializer,
    LogoutOutputSerializer,
    MeClientOutputSerializer,
    MeUserOutputSerializer,
    RefreshInputSerializer,
    TokenPairOutputSerializer,
)

TAG = ["auth"]


def token_data(pair, user=None) -> dict:
    data = {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "token_type": "bearer",
        "expires_in": pair.expires_in,
    }
    if user is not None:
        data["user"] = selectors.user_token_profile(user)
    return data


class _TokenEndpoint(BaseAPIView):
    """Token endpoints ignore ``Idempotency-Key``: tokens are never stored in the cache for replays."""

    allow_when_password_change_required = True
    idempotent = False


class LoginView(_TokenEndpoint):
    authentication_classes = []
    public = True
    throttle_scopes = "auth.login"
    throttled = False  # 5/minute per IP and per username, counted by the login service

    @extend_schema(
        tags=TAG,
        request=LoginInputSerializer,
        responses={200: LoginOutputSerializer},
        auth=[],
        description=(
            "Log in with email and password. 401 for any bad credentials (the message never says whether the "
            "username exists); 429 RATE_LIMIT_EXCEEDED past 5/minute per IP or username; 429 ACCOUNT_LOCKED "
            "(with Retry-After) for 15 minutes after 5 consecutive failures for a username, existing or not."
        ),
    )
    def post(self, request):
        data = self.validated(LoginInputSerializer, request.data)
        result = services.auth_login(**data, ip=getattr(request, "client_ip", None))
        return self.ok(token_data(result.tokens, result.user), "Login successful", headers=result.rate_headers)


class RefreshView(_TokenEndpoint):
    authentication_classes = []
    public = True
    throttle_scopes = "auth.refresh"

    @extend_schema(
        tags=TAG,
        request=RefreshInputSerializer,
        responses={200: TokenPairOutputSerializer},
        auth=[],
        description="Exchange a refresh token for a new access token and a rotated refresh token. The presented "
        "refresh token is blacklisted; using it again is refused (401).",
    )
    def post(self, request):
        data = self.validated(RefreshInputSerializer, request.data)
        _, pair = services.auth_refresh(refresh_token=data["refresh_token"])
        return self.ok(token_data(pair), "Token refreshed")


class LogoutView(_TokenEndpoint):
    throttle_scopes = "auth.logout"
    users_only = True  # a client has no tokens to revoke (403, audited)

    @extend_schema(
        tags=TAG,
        request=LogoutInputSerializer,
        responses={200: LogoutOutputSerializer},
        description="Revoke the presented access token (until it expires) and blacklist `refresh_token` if given. "
        "A refresh token of another user or a forged one is 422 and nothing is revoked; an expired or already "
        "revoked one is accepted. Integration clients get 403.",
    )
    def post(self, request):
        data = self.validated(LogoutInputSerializer, request.data)
        revoked = services.auth_logout(
            user=request.user, access_payload=request.auth, refresh_token=data.get("refresh_token")
        )
        return self.ok({"refresh_revoked": revoked}, "Logged out")


class MeView(BaseAPIView):
    allow_when_password_change_required = True
    throttle_scopes = "auth.me"

    @extend_schema(
        tags=TAG,
        responses={
            200: PolymorphicProxySerializer(
                component_name="Principal",
                serializers={"user": MeUserOutputSerializer, "integration_client": MeClientOutputSerializer},
                resource_type_field_name="principal_type",
            )
        },
        description="The caller: a user, or an integration client (`principal_type` tells which).",
    )
    def get(self, request):
        return self.ok(selectors.principal_profile(request.user))


class ChangePasswordView(_TokenEndpoint):
    users_only = True  # a client has no password (403, audited)
    throttle_scopes = "auth.change_password"

    @extend_schema(
        tags=TAG,
        request=ChangePasswordInputSerializer,
        responses={200: LoginOutputSerializer},
        description="Change your own password (>= 12 characters and Django's validators). Clears "
        "`must_change_password`, revokes every token issued before now and returns a fresh token pair. "
        "Integration clients get 403.",
    )
    def post(self, request):
        data = self.validated(ChangePasswordInputSerializer, request.data)
        pair = services.auth_password_change(user=request.user, access_payload=request.auth, **data)
        request.user.refresh_from_db()
        return self.ok(token_data(pair, request.user), "Password changed")
