"""``manage.py train_agent <directory>``: teach the agent from files (README "Memory" → Training files).

* ``*.sql``: DDL; each file is one ``ddl`` memory (its statements together).
* ``*.md`` / ``*.txt``: documentation; each file is one ``text`` memory tagged with the file's name.
* ``*.json``: question→SQL pairs: a list of ``{"question", "sql"}`` (or any memory in the export format); each
  SQL is checked by the read-only gate on the data source.

Files are read in name order (subdirectories too), everything is checked before anything is stored, and the whole
load is stored or none of it. The memories are ``approved`` (``--draft``: left for review) and global, on
``--data-source`` (default: every source for notes and DDL, the default source's gate for SQL).
"""

from pathlib import Path

from majed_vanna.commands import Error, OperatorCommand

from .import_memory import import_rows, memory_rows

DOCUMENTATION = {".md", ".txt"}


def training_rows(root: Path, *, source: str | None, status: str) -> tuple[list, list]:
    """The memories the files under ``root`` hold, and for each the file it came from."""
    rows, origins = [], []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        suffix, name = path.suffix.lower(), str(path.relative_to(root))
        if suffix == ".json":
            found = [dict(row) if isinstance(row, dict) else row for row in memory_rows(path)]
            for row in found:
                if isinstance(row, dict):
                    row.setdefault("kind", "question_sql")
        elif suffix == ".sql" or suffix in DOCUMENTATION:
            try:
                text = path.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                raise Error(f"Cannot read {path}: {exc}") from None
            if not text:
                continue
            kind = "ddl" if suffix == ".sql" else "text"
            found = [{"kind": kind, "content": text, "tags": [] if kind == "ddl" else [path.stem]}]
        else:
            continue
        for row in found:
            if isinstance(row, dict):
                row.setdefault("status", status)
                if source is not None:
                    row.setdefault("data_source", source)
            rows.append(row)
            origins.append(name)
    return rows, origins


class Command(OperatorCommand):
    help = "Load DDL (.sql), documentation (.md, .txt) and question/SQL pairs (.json) from a directory as memories."

    def add_arguments(self, parser):
        parser.add_argument("directory", help="A directory of .sql, .md/.txt and .json files")
        parser.add_argument("--data-source", help="The data source (id or name) the memories are about")
        parser.add_argument("--draft", action="store_true", help="Leave them as drafts for review (default: approved)")
        parser.add_argument("--user", help="Act as this user (email); default: the first admin")

    def handle(self, *args, **options):
        from agent.management.commands.run_eval import acting_user

        root = Path(options["directory"]).expanduser()
        if not root.is_dir():
            raise Error(f"{root} is not a directory.")
        status = "draft" if options["draft"] else "approved"
        rows, origins = training_rows(root, source=options.get("data_source"), status=status)
        if not rows:
            raise Error(f"No .sql, .md, .txt or .json training file under {root}.")
        user = acting_user(options.get("user"))
        counts = import_rows(self, rows, user=user, label=lambda i: f"{origins[i]} (#{i + 1})")
        self.stdout.write(
            f"Trained from {len(set(origins))} files: {counts['created']} memories added, {counts['merged']} merged."
        )
