from django.apps import AppConfig


class ConfigApiConfig(AppConfig):
    name = "config_api"
    verbose_name = "Configuration and backups"

    def ready(self):
        from majed_vanna.crypto import register_encrypted_field
        from majed_vanna.runtime import set_runtime_config_provider

        from .health_checks import register_config_checks
        from .runtime import runtime_config_values, runtime_config_values_offline
        from .services import llm_key_reencrypt

        set_runtime_config_provider(runtime_config_values, offline=runtime_config_values_offline)
        register_encrypted_field("config_api.llm_api_key", label="LLM API key", reencrypt=llm_key_reencrypt)
        register_config_checks()  # the real "llm" and "data_source" health checks (README "Health and metrics")
