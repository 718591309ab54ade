"""What waits on a data source: the connection test (``POST agent/data-sources/{id}/test``) and the schema
(``GET agent/data-sources/{id}/schema``). Both are async: the driver calls run on the bounded blocking pool
(``majed_vanna.blocking``), never on the event loop or the thread that serves synchronous views."""

import dataclasses
import inspect
import json
import logging
import sqlite3
from typing import Any

import psycopg
from asgiref.sync import sync_to_async

from config_api import probes
from majed_vanna import crypto
from majed_vanna.audit import audit_record
from majed_vanna.blocking import run_blocking
from majed_vanna.exceptions import ApplicationError, ServiceUnavailableError

from .. import selectors
from ..models import DataSource
from .sources import RESOURCE, schema_store

logger = logging.getLogger(__name__)

UNREADABLE_MESSAGE = (
    "The data source's URL cannot be decrypted (SECRET_KEY changed?): put the previous key in "
    "SECRET_KEY_FALLBACKS and run manage.py reencrypt_secrets, or set the URL again."
)
INTROSPECTION_FAILURES = (OSError, TimeoutError, sqlite3.Error, psycopg.Error)


def _url_or_none(source: DataSource) -> str | None:
    try:
        return selectors.data_source_url(source)
    except crypto.SecretUnreadableError:
        return None


async def data_source_test(*, source: DataSource, actor) -> dict[str, Any]:
    """Connect read-only and run ``SELECT 1`` (a few seconds at most), as ``config/test-database`` does:
    ``{status, message, connection_time_ms, details}``. Audited ``data_source.test``."""
    url = await sync_to_async(_url_or_none)(source)
    if url is None:
        result = {
            "status": "failure",
            "message": UNREADABLE_MESSAGE,
            "connection_time_ms": 0.0,
            "details": {"provider": source.engine, "reason": "url_unreadable"},
        }
    else:
        result = await run_blocking(probes.probe_data_source, url)
    await sync_to_async(_audit_test)(source=source, actor=actor, result=result)
    return result


def _audit_test(*, source: DataSource, actor, result: dict[str, Any]) -> None:
    success = result["status"] == "success"
    audit_record(
        action="data_source.test",
        actor=actor,
        resource=RESOURCE,
        resource_id=str(source.pk),
        details={
            "name": source.name,
            "status": result["status"],
            "connection_time_ms": result["connection_time_ms"],
            **result["details"],
        },
        success=success,
        error_message="" if success else result["message"],
    )


def _jsonable(value: Any) -> Any:
    """The introspection's result as JSON data (a dataclass, a mapping or a list of them)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    elif hasattr(value, "to_dict"):
        value = value.to_dict()
    return json.loads(json.dumps(value, default=str))


async def _introspect(spec) -> Any:
    from agent.sql.introspect import introspect  # the runners' module (issue 14): imported when first needed

    try:
        if inspect.iscoroutinefunction(introspect):
            return await introspect(spec)
        return await run_blocking(introspect, spec)
    except ApplicationError:
        raise
    except INTROSPECTION_FAILURES as exc:
        logger.warning("Introspection of data source %s failed: %s", spec.id, type(exc).__name__)
        raise ServiceUnavailableError(
            "The data source did not answer, so its schema could not be read; test its connection.", retry_after=30
        ) from None


def schema_payload(source: DataSource, *, cached: bool) -> dict[str, Any]:
    return {
        "data_source": {"id": str(source.pk), "name": source.name, "engine": source.engine},
        "fetched_at": source.schema_fetched_at,
        "cached": cached,
        "schema": source.schema_snapshot,
    }


async def data_source_schema(*, source: DataSource, refresh: bool = False) -> dict[str, Any]:
    """The source's tables, views, columns, types, keys and row estimates (``agent.sql.introspect``). Kept
    with the source after the first read and served from there until ``refresh`` (or a new URL) asks again."""
    if source.schema_snapshot is not None and not refresh:
        return schema_payload(source, cached=True)
    spec = await sync_to_async(selectors.data_source_spec)(source)
    snapshot = _jsonable(await _introspect(spec))
    source = await sync_to_async(schema_store)(source=source, snapshot=snapshot)
    return schema_payload(source, cached=False)
