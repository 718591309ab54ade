"""OpenAPI security schemes for the integration authentication classes (loaded in ``AppConfig.ready``)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class APIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "integrations.authentication.APIKeyAuthentication"
    name = "IntegrationApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "An integration client's API key (`mvk_<prefix>.<random>`).",
        }


class HMACSignatureScheme(OpenApiAuthenticationExtension):
    target_class = "integrations.authentication.HMACSignatureAuthentication"
    name = "IntegrationSignature"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Signature",
            "description": (
                "Signed request: send `X-Client-Id`, `X-Timestamp` (unix seconds, ±300 s), `X-Nonce` (8-128 chars "
                "of `A-Za-z0-9_-`, once only) and `X-Signature` = lower-case hex HMAC-SHA256(client_secret, "
                "`METHOD\\nPATH\\nSORTED_QUERY\\nTIMESTAMP\\nNONCE\\nSHA256_HEX(BODY)`). See the README "
                "section 'Integration clients' and `integrations/signing.py`."
            ),
        }
