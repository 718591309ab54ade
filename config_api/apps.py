from django.apps import AppConfig


class ConfigApiConfig(AppConfig):
    name = "config_api"
    verbose_name = "Configuration and backups"

    def ready(self):
        from majed_vanna.runtime import set_runtime_config_provider

        from .health_checks import register_config_checks
        from .runtime import runtime_config_values

        set_runtime_config_provider(runtime_config_values)
        register_config_checks()  # the real "llm" and "data_source" health checks (README "Health and metrics")
