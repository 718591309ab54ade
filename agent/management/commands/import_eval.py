"""``manage.py import_eval``: a Spider- or BIRD-style dev set (questions, gold SQL, SQLite databases) from local
files, as one evaluation set per database, each on a data source for that database (contract §7; README
"Evaluation"). Cases whose gold SQL the read-only gate refuses are skipped and counted, not imported."""

import json
from pathlib import Path

from agent.services.evals import reference_check
from majed_vanna.commands import Error, OperatorCommand, one_line
from majed_vanna.exceptions import ApplicationError

BY = "manage.py import_eval"


def load_cases(path: Path) -> list[dict]:
    """Spider (``question``, ``query``, ``db_id``) or BIRD (``question``, ``SQL``, ``db_id``, ``evidence``) rows."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Error(f"Cannot read {path}: {one_line(str(exc), 200)}") from None
    if not isinstance(rows, list):
        raise Error(f"{path} must hold a JSON list of questions.")
    cases = []
    for i, row in enumerate(rows):
        sql = row.get("query") or row.get("SQL") or row.get("sql") if isinstance(row, dict) else None
        if not isinstance(row, dict) or not row.get("question") or not sql or not row.get("db_id"):
            raise Error(f"{path} item {i} needs question, query (or SQL) and db_id.")
        cases.append(
            {"db_id": str(row["db_id"]), "question": row["question"], "sql": sql, "notes": row.get("evidence") or ""}
        )
    return cases


def database_file(root: Path, db_id: str) -> Path:
    for candidate in (root / db_id / f"{db_id}.sqlite", root / db_id / f"{db_id}.db", root / f"{db_id}.sqlite"):
        if candidate.is_file():
            return candidate
    raise Error(f"No SQLite file for database {db_id!r} under {root} (expected {db_id}/{db_id}.sqlite).")


class Command(OperatorCommand):
    help = "Import a Spider/BIRD-style dev set (JSON + SQLite databases) as evaluation sets, one per database."

    def add_arguments(self, parser):
        parser.add_argument("questions", help="dev.json: a list of {question, query|SQL, db_id[, evidence]}")
        parser.add_argument("databases", help="Directory holding <db_id>/<db_id>.sqlite files")
        parser.add_argument("--prefix", default="bench", help="Name prefix of the data sources and sets")
        parser.add_argument("--limit", type=int, default=0, help="Import at most this many questions (0: all)")
        parser.add_argument("--user", help="Act as this user (email); default: the first admin")

    def handle(self, *args, **options):
        from agent.management.commands.run_eval import acting_user
        from agent.models import EvalCase, EvalSet
        from agent.services.sources import data_source_register

        cases = load_cases(Path(options["questions"]).expanduser())
        root = Path(options["databases"]).expanduser().resolve()
        if not root.is_dir():
            raise Error(f"{root} is not a directory.")
        user = acting_user(options.get("user"))
        if options["limit"] > 0:
            cases = cases[: options["limit"]]
        by_db: dict[str, list[dict]] = {}
        for case in cases:
            by_db.setdefault(case["db_id"], []).append(case)
        imported = skipped = 0
        for n, (db_id, db_cases) in enumerate(sorted(by_db.items()), start=1):
            path = database_file(root, db_id)
            name = f"{options['prefix']}-{db_id}"[:100]
            try:
                source, _ = data_source_register(name=name, url=f"sqlite:///{path}", by=BY)
            except ApplicationError as exc:
                raise Error(f"Cannot register {path} as a data source: {exc.message}") from None
            eval_set, _ = EvalSet.objects.get_or_create(
                data_source=source, name=name, defaults={"created_by": user.username}
            )
            known = set(eval_set.cases.values_list("question", "reference_sql"))
            position = eval_set.cases.count()
            for case in db_cases:
                if (case["question"], case["sql"]) in known:
                    continue
                try:
                    reference_check(source=source, sql=case["sql"], actor=user)
                except ApplicationError:
                    skipped += 1
                    continue
                EvalCase.objects.create(
                    eval_set=eval_set,
                    question=case["question"],
                    reference_sql=case["sql"],
                    notes=case["notes"],
                    position=position,
                )
                position += 1
                imported += 1
            self.stdout.write(f"[{n}/{len(by_db)}] {name}: {eval_set.cases.count()} case(s)")
        self.stdout.write(
            f"Imported {imported} case(s) into {len(by_db)} set(s); skipped {skipped} the read-only gate refused. "
            "Run one with: manage.py run_eval <set name>"
        )
