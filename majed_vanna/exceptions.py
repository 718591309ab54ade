"""Application errors: each carries the contract's error code and HTTP status (contract §1).

Services raise these; ``majed_vanna.api.exception_handler`` alone turns them into the error envelope.
"""

from typing import Any


class ApplicationError(Exception):
    code = "INTERNAL_ERROR"
    status_code = 500
    default_message = "An unexpected error occurred"

    def __init__(self, message: str | None = None, *, details: Any = None, headers: dict | None = None):
        self.message = message or self.default_message
        self.details = details
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequestError(ApplicationError):
    code, status_code, default_message = "BAD_REQUEST", 400, "Bad request"


class AuthenticationFailedError(ApplicationError):
    code, status_code, default_message = "AUTHENTICATION_FAILED", 401, "Authentication failed"


class PermissionDeniedError(ApplicationError):
    code, status_code, default_message = "PERMISSION_DENIED", 403, "You do not have permission to perform this action"


class PasswordChangeRequiredError(ApplicationError):
    code, status_code, default_message = (
        "PASSWORD_CHANGE_REQUIRED",
        403,
        "You must change your password before doing anything else",
    )


class NotFoundError(ApplicationError):
    code, status_code, default_message = "RESOURCE_NOT_FOUND", 404, "Resource not found"


class ConflictError(ApplicationError):
    code, status_code, default_message = "CONFLICT", 409, "The request conflicts with the current state"


class PayloadTooLargeError(ApplicationError):
    code, status_code, default_message = "PAYLOAD_TOO_LARGE", 413, "Request body is too large"


class ValidationFailedError(ApplicationError):
    """422 with ``details`` mapping field -> list of messages."""

    code, status_code, default_message = "VALIDATION_ERROR", 422, "Invalid input parameters"


class IdempotencyKeyReusedError(ApplicationError):
    code, status_code, default_message = (
        "IDEMPOTENCY_KEY_REUSED",
        422,
        "This Idempotency-Key was already used with a different request",
    )


class RateLimitExceededError(ApplicationError):
    code, status_code, default_message = "RATE_LIMIT_EXCEEDED", 429, "Too many requests"

    def __init__(self, message: str | None = None, *, retry_after: int, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = max(1, int(retry_after))
        self.headers.setdefault("Retry-After", str(self.retry_after))


class AccountLockedError(RateLimitExceededError):
    code, default_message = "ACCOUNT_LOCKED", "Too many failed login attempts; try again later"


class ServiceUnavailableError(ApplicationError):
    code, status_code, default_message = "SERVICE_UNAVAILABLE", 503, "A dependency is unavailable"

    def __init__(self, message: str | None = None, *, retry_after: int = 30, **kwargs):
        super().__init__(message, **kwargs)
        self.headers.setdefault("Retry-After", str(max(1, int(retry_after))))
