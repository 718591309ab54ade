from django.apps import AppConfig


class ConfigApiConfig(AppConfig):
    name = "config_api"
    verbose_name = "Configuration and backups"

    def ready(self):
        from majed_vanna.runtime import set_runtime_config_provider

        from .runtime import runtime_config_values

        set_runtime_config_provider(runtime_config_values)
