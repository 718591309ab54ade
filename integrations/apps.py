from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self):
        from . import schema  # noqa: F401  (registers the OpenAPI security schemes)
