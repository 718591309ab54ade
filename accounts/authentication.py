"""JWT authentication: simplejwt with the algorithm pinned (HS256) and ``iss``/``aud`` verified
(settings ``SIMPLE_JWT``). On top of the signature and expiry checks, an access token is refused when:

- it was revoked by logout or a password change (cache deny-list keyed by ``jti``);
- its user is inactive or deleted (tokens stop working at once);
- it was issued before the user's ``tokens_valid_after`` (password change/reset, deactivation).
Every refusal is a plain 401 AUTHENTICATION_FAILED that does not say which check failed.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication as _SimpleJWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken

from . import tokens

INVALID_TOKEN = "Invalid or expired token"


class JWTAuthentication(_SimpleJWTAuthentication):
    www_authenticate_realm = "api"

    def get_raw_token(self, header):
        try:
            return super().get_raw_token(header)
        except AuthenticationFailed:
            raise AuthenticationFailed("Authorization header must be 'Bearer <token>'", code="bad_authorization_header")

    def get_validated_token(self, raw_token):
        try:
            validated = super().get_validated_token(raw_token)
        except InvalidToken:
            raise AuthenticationFailed(INVALID_TOKEN, code="token_not_valid")
        if tokens.access_token_denied(validated):
            raise AuthenticationFailed(INVALID_TOKEN, code="token_revoked")
        return validated

    def get_user(self, validated_token):
        try:
            user = super().get_user(validated_token)
        except (AuthenticationFailed, ValueError, DjangoValidationError):
            raise AuthenticationFailed(INVALID_TOKEN, code="token_not_valid")
        if not user.is_active or tokens.issued_before_cutoff(validated_token, user):
            raise AuthenticationFailed(INVALID_TOKEN, code="token_revoked")
        return user
