"""Health app writes: an operator's circuit-breaker reset (audited)."""

from majed_vanna.circuit_breakers import find_breaker
from majed_vanna.exceptions import NotFoundError


def circuit_breaker_reset(*, name: str, actor) -> dict:
    """Close the breaker ``name`` and forget its failures; audited as ``circuit_breaker.reset``."""
    from accounts.services import audit_record  # cross-app call through the public service

    breaker = find_breaker(name)
    if breaker is None:
        raise NotFoundError("No circuit breaker with this name")
    previous = breaker.status()
    breaker.reset()
    audit_record(
        action="circuit_breaker.reset",
        actor=actor,
        resource="circuit_breaker",
        resource_id=name,
        details={"previous_state": previous.state, "previous_failures": previous.failures},
    )
    return {"name": name, "previous_state": previous.state, **breaker.status().as_dict()}
