"""The agent's LLM errors, with the contract's codes (§5 "Agent": ``LLM_UNAVAILABLE``, ``LLM_NOT_CONFIGURED``)."""

from majed_vanna.exceptions import ApplicationError


class LLMUnavailableError(ApplicationError):
    """The provider is down, kept failing after the allowed retries, refused the call, or the breaker is open."""

    code, status_code, default_message = "LLM_UNAVAILABLE", 503, "The LLM provider is unavailable"


class LLMNotConfiguredError(ApplicationError):
    code, status_code, default_message = "LLM_NOT_CONFIGURED", 503, "No LLM provider is configured"
