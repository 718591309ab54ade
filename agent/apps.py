from django.apps import AppConfig


class AgentConfig(AppConfig):
    name = "agent"

    def ready(self):
        from majed_vanna.api.scopes import register_scope
        from majed_vanna.crypto import register_encrypted_field

        from .knowledge.embeddings import check_backend
        from .services import data_sources_reencrypt

        check_backend()  # MV_RETRIEVAL_BACKEND=embeddings without its extra: refuse to start, with the fix

        register_encrypted_field("agent.data_source_url", label="data source URLs", reencrypt=data_sources_reencrypt)
        register_scope("data_sources.test", "20/hour")  # each one connects to a database, like config.test_database
        register_scope("data_sources.schema", "300/hour")  # a refresh reads the whole catalog of a database
        # The OpenAI SDK learns the platform once, by running ``uname -p``: do it at start-up, not in a request.
        from .llm import openai_compatible  # noqa: F401
