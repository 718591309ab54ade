"""``manage.py import_memory <file.json>``: memories in the format of ``GET agent/memory/export`` (a JSON list, or
``{"memories": [...]}``), all or nothing: every question→SQL is checked by the read-only gate first (README
"Memory"). Audited ``memory.import``; duplicates are merged."""

import json
from pathlib import Path

from majed_vanna.commands import Error, OperatorCommand, one_line


def memory_rows(path: Path) -> list:
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Error(f"Cannot read {path}: {one_line(str(exc), 200)}") from None
    if isinstance(rows, dict) and isinstance(rows.get("memories"), list):
        rows = rows["memories"]
    if not isinstance(rows, list):
        raise Error(f'{path} must hold a JSON list of memories (or {{"memories": [...]}}).')
    return rows


def import_rows(command, rows: list, *, user, label=lambda i: f"item {i}") -> dict:
    """Check ``rows`` (export format), resolve their data sources, import them all or none, with progress."""
    from agent.api.memory_serializers import MemoryImportItemSerializer
    from agent.services.memory import memory_import, source_named

    items = []
    for i, row in enumerate(rows):
        serializer = MemoryImportItemSerializer(data=row)
        if not serializer.is_valid():
            problems = "; ".join(f"{name}: {' '.join(map(str, msgs))}" for name, msgs in serializer.errors.items())
            raise Error(f"{label(i)} is not a memory ({one_line(problems, 300)}); nothing was imported.")
        item = dict(serializer.validated_data)
        try:
            item["data_source"] = source_named(user, item.get("data_source"))
        except LookupError:
            raise Error(f"{label(i)}: no data source {item['data_source']!r}; nothing was imported.") from None
        items.append(item)

    def progress(done: int, total: int) -> None:
        command.stdout.write(f"checked {done}/{total}: {label(done - 1)}")

    return memory_import(actor=user, items=items, progress=progress)


class Command(OperatorCommand):
    help = "Import memories (the JSON of GET agent/memory/export), all or nothing, gate-checked."

    def add_arguments(self, parser):
        parser.add_argument("file", help="A JSON list of memories (kind, question, sql, content, tags, data_source…)")
        parser.add_argument("--user", help="Act as this user (email); default: the first admin")

    def handle(self, *args, **options):
        from agent.management.commands.run_eval import acting_user

        rows = memory_rows(Path(options["file"]).expanduser())
        counts = import_rows(self, rows, user=acting_user(options.get("user")))
        self.stdout.write(f"Imported {counts['created']} memories, merged {counts['merged']} into existing ones.")
