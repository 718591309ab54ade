"""OpenAPI description of the JWT bearer scheme (drf-spectacular extension, loaded in ``AppConfig.ready``)."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class MajedVannaJWTScheme(SimpleJWTScheme):
    target_class = "accounts.authentication.JWTAuthentication"
    name = "jwtAuth"
