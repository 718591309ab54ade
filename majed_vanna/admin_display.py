"""Compact change-list columns, so that every list page of the admin fits a 1400-px screen (issue 12).

Long values (e-mail addresses, ids, user agents, details, errors) are cut to a few characters with the
whole value in the cell's ``title`` (shown on hover); dates are ``2026-05-03 14:05`` (UTC, never wrapped)
rather than "May 3, 2026, 2:05 p.m.". ``MAX_LIST_COLUMNS`` is what fits beside the filter sidebar at 1400 px; a test
holds every registered change list to it (``scripts/check_admin_layout.py`` measures it in a browser).
"""

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html

MAX_LIST_COLUMNS = 7  # besides the selection checkbox
ELLIPSIS = "…"


def truncated(value, length: int) -> str:
    """``value`` as text, cut to ``length`` characters (ellipsis included) with the whole in ``title``."""
    text = "" if value is None else str(value)
    if len(text) <= length:
        return text  # escaped by the admin like any other cell
    return format_html('<span title="{}">{}{}</span>', text, text[: length - 1], ELLIPSIS)


def compact_datetime(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d\N{NO-BREAK SPACE}%H:%M") if value else "-"


def text_column(field: str, length: int, description: str | None = None):
    """A sortable ``list_display`` column showing ``field`` cut to ``length`` characters."""

    @admin.display(description=description or field.replace("_", " "), ordering=field)
    def column(obj):
        return truncated(getattr(obj, field), length)

    column.__name__ = field  # the cell's CSS class (``field-<name>``), as for a plain field
    return column


def datetime_column(field: str, description: str | None = None):
    """A sortable ``list_display`` column showing ``field`` as ``YYYY-MM-DD HH:MM``."""

    @admin.display(description=description or field.replace("_", " "), ordering=field)
    def column(obj):
        return compact_datetime(getattr(obj, field))

    column.__name__ = field
    return column
