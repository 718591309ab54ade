"""The request id on every log record (contract §1).

``install_request_id_record_factory()`` (called at start-up) makes every ``LogRecord`` capture the current
request id when it is created, whichever logger or handler it goes to (console, JSON, Celery's, pytest's
caplog), even if it is formatted later in another thread. An explicit ``extra={"request_id": ...}`` still
wins. ``RequestIdFilter`` (on the configured handlers) writes the value into the record's ``__dict__``,
which is where ``%``-style and JSON formatters look.
"""

import logging

from .request_context import current_request_id


class _CapturedRequestId:
    """Non-data descriptor: a ``request_id`` put in the record's ``__dict__`` (by ``extra``) takes precedence."""

    def __get__(self, record, owner=None):
        if record is None:
            return self
        return record.__dict__.get("_mv_request_id", "-")


class RequestIdLogRecord(logging.LogRecord):
    request_id = _CapturedRequestId()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._mv_request_id = current_request_id() or "-"


def install_request_id_record_factory() -> None:
    current = logging.getLogRecordFactory()
    if current is RequestIdLogRecord or getattr(current, "_mv_request_id_factory", False):
        return
    if current is logging.LogRecord:
        logging.setLogRecordFactory(RequestIdLogRecord)
        return

    def factory(*args, **kwargs):  # someone else installed a factory first: wrap it
        record = current(*args, **kwargs)
        record.__dict__.setdefault("_mv_request_id", current_request_id() or "-")
        if not hasattr(record, "request_id"):
            record.request_id = record.__dict__["_mv_request_id"]
        return record

    factory._mv_request_id_factory = True
    logging.setLogRecordFactory(factory)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if "request_id" not in record.__dict__:
            record.request_id = getattr(record, "request_id", None) or current_request_id() or "-"
        return True
