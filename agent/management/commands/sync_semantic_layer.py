"""``manage.py sync_semantic_layer [--data-source NAME_OR_ID]``: the schema scan of ``POST agent/semantic/sync``
for operators (contract §7), with its progress and the drift report printed. Audited ``semantic.sync``."""

import uuid

from asgiref.sync import async_to_sync

from majed_vanna.commands import Error, OperatorCommand
from majed_vanna.exceptions import ApplicationError

BY = "manage.py sync_semantic_layer"


def _sources(reference: str | None) -> list:
    from agent.models import DataSource
    from agent.services import data_source_default_ensure

    data_source_default_ensure()
    if not reference:
        sources = list(DataSource.objects.filter(enabled=True).order_by("name"))
        if not sources:
            raise Error("No enabled data source to scan (seed_demo or load_demo_data registers one).")
        return sources
    try:
        found = DataSource.objects.filter(pk=uuid.UUID(reference)).first()
    except ValueError:
        found = DataSource.objects.filter(name__iexact=reference).first()
    if found is None:
        raise Error(f"No data source named {reference!r} (give its name or id).")
    return [found]


async def _scan(source, progress) -> dict:
    """One scan in this command's event loop; the loop's PostgreSQL pools are closed with it."""
    from agent.services.semantic_sync import semantic_sync
    from agent.sql.runners import close_pools

    try:
        return await semantic_sync(source=source, actor=None, by=BY, progress=progress)
    finally:
        await close_pools()


def _summary(report: dict) -> list[str]:
    def counts(group: str) -> str:
        return ", ".join(f"{len(items)} {change}" for change, items in report[group].items())

    lines = [
        f"  tables: {counts('tables')}",
        f"  columns: {counts('columns')}",
        f"  relationships: {counts('relationships')}",
        f"  sample values recorded for {report['sample_values']['recorded']} column(s)",
    ]
    for group in ("tables", "columns"):
        for change in ("added", "removed"):
            for name in report[group][change][:50]:
                lines.append(f"    {group[:-1]} {change}: {name}")
        for item in report[group]["changed"][:50]:
            lines.append(f"    {group[:-1]} changed: {item['name']} ({'; '.join(item['changes'])})")
    for skipped in report["sample_values"]["skipped"][:20]:
        lines.append(f"    no sample values for {skipped['column']}: {skipped['reason']}")
    for item in report["flagged"]["metrics"]:
        lines.append(f"  flagged metric {item['name']}: {item['reason']}")
    for item in report["flagged"]["memories"]:
        lines.append(f"  flagged memory {item['id']} ({item['question'][:60]}): {item['reason']}")
    if report["kept_descriptions"]:
        lines.append(f"  kept the descriptions of removed entries: {', '.join(report['kept_descriptions'][:20])}")
    return lines


class Command(OperatorCommand):
    help = (
        "Scan data sources for the semantic layer: create the missing table, column and relationship entries, "
        "record the values of low-cardinality columns, report drift (added, removed, changed) and flag the "
        "metrics and saved questions a removal breaks. Descriptions people wrote are never overwritten."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--data-source", help="Name or id of the data source to scan (default: every enabled data source)"
        )

    def handle(self, *args, **options):
        def say(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        failed = []
        for source in _sources(options.get("data_source")):
            try:
                report = async_to_sync(_scan)(source, say)
            except ApplicationError as exc:  # this source did not answer: go on with the others
                failed.append(f"{source.name} ({exc.message})")
                self.stderr.write(f"Could not scan {source.name}: {exc.message}")
                continue
            for line in _summary(report):
                self.stdout.write(line)
            self.stdout.write(self.style.SUCCESS(f"Synchronised the semantic layer of {source.name}."))
        if failed:
            raise Error(f"Could not scan {len(failed)} data source(s): {'; '.join(failed)}")
