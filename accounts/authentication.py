"""JWT authentication: simplejwt with the algorithm pinned and ``iss``/``aud`` verified (settings
``SIMPLE_JWT``); tokens of an inactive user stop working at once."""

from rest_framework_simplejwt.authentication import JWTAuthentication as _SimpleJWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed


class JWTAuthentication(_SimpleJWTAuthentication):
    www_authenticate_realm = "api"

    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        if not user.is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        return user
