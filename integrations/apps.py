from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self):
        from majed_vanna.crypto import register_encrypted_field

        from . import schema  # noqa: F401  (registers the OpenAPI security schemes)
        from .services import client_secrets_reencrypt

        register_encrypted_field(
            "integrations.client_secret", label="integration client secrets", reencrypt=client_secrets_reencrypt
        )
