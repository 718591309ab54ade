from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "health"

    def ready(self):
        from .checks import register_builtin_checks

        register_builtin_checks()
