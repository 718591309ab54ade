from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "health"

    def ready(self):
        from .checks import prime_cpu_sample, register_builtin_checks

        register_builtin_checks()
        prime_cpu_sample()
