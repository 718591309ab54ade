"""``manage.py run_eval`` (progress, summary, the baseline gate) and ``manage.py import_eval`` (Spider/BIRD files)."""

import io
import json
import sqlite3

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from agent.models import EvalCase, EvalRun, EvalSet
from agent.services import evals as services

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo_set(demo_source, admin):
    return services.eval_set_import(
        data_source=demo_source,
        name="smoke",
        description="",
        cases=[{"question": "SELECT count(*) FROM customers", "reference_sql": "SELECT count(*) FROM customers"}],
        actor=admin,
    )


def test_run_eval_prints_progress_and_accuracy(demo_set, offline):
    output = run("run_eval", "smoke", "--baseline")
    assert "[" + "#" * 30 + "] 1/1" in output
    assert "Execution accuracy 100.0% (1/1)" in output  # offline SQL passthrough answers the SQL question
    assert "now the baseline" in output
    assert EvalRun.objects.get().is_baseline


def test_fail_under_baseline_exits_2_when_accuracy_drops(demo_set, offline, admin):
    run("run_eval", "smoke", "--baseline", "--quiet")
    case = demo_set.cases.get()
    case.question = "an unrelated question nobody saved"  # offline cannot answer it any more
    case.save()
    with pytest.raises(CommandError) as failed:
        run("run_eval", "smoke", "--quiet", "--fail-under-baseline")
    assert failed.value.returncode == 2 and "below the baseline" in str(failed.value)


def test_import_eval_loads_a_spider_style_dev_set(roots, admin):
    db_dir = roots / "spider" / "concert"
    db_dir.mkdir(parents=True)
    with sqlite3.connect(db_dir / "concert.sqlite") as db:
        db.execute("CREATE TABLE singer (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)")
        db.executemany("INSERT INTO singer (name, age) VALUES (?, ?)", [("A", 30), ("B", 40)])
    dev = roots / "dev.json"
    dev.write_text(
        json.dumps(
            [
                {"db_id": "concert", "question": "How many singers?", "query": "SELECT count(*) FROM singer"},
                {"db_id": "concert", "question": "Oldest?", "query": "SELECT name FROM singer ORDER BY age DESC"},
                {"db_id": "concert", "question": "Wipe", "query": "DELETE FROM singer"},
            ]
        )
    )
    output = run("import_eval", str(dev), str(roots / "spider"))
    assert "Imported 2 case(s) into 1 set(s); skipped 1" in output
    eval_set = EvalSet.objects.get(name="bench-concert")
    assert list(eval_set.cases.values_list("question", flat=True)) == ["How many singers?", "Oldest?"]
    again = run("import_eval", str(dev), str(roots / "spider"))  # idempotent
    assert "Imported 0 case(s)" in again and EvalCase.objects.count() == 2
