"""OpenAPI: describe the project's JWT bearer authentication so the schema validates without warnings.

(Belongs with ``accounts``; harmless if accounts registers its own, the higher priority wins.)
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class JWTAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.JWTAuthentication"
    name = "jwtAuth"
    priority = -1

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
