"""The demo knowledge: ``seed_demo`` saves every demo question as an approved global question→SQL memory of
the demo data source, once (idempotent, audited), and every saved SQL passes the read-only gate and returns
rows on the demo data."""

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command

from accounts.models import AuditLog
from agent.knowledge.demo_questions import DEMO_QUESTIONS, demo_questions_save
from agent.models import DataSource, Memory, MemoryKind, MemoryScope, MemoryStatus
from agent.services.queries import data_source_query


@pytest.mark.django_db
def test_seed_demo_saves_the_demo_questions_once(demo_file, capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert f"Saved {len(DEMO_QUESTIONS)} demo questions" in out
    source = DataSource.objects.get(name="demo")
    saved = Memory.objects.filter(data_source=source)
    assert sorted(saved.values_list("question", "sql")) == sorted(DEMO_QUESTIONS)
    assert set(saved.values_list("kind", "scope", "status", "owner")) == {
        (MemoryKind.QUESTION_SQL, MemoryScope.GLOBAL, MemoryStatus.APPROVED, None)
    }
    audit = AuditLog.objects.get(action="memory.import")
    assert audit.details["created"] == len(DEMO_QUESTIONS) and audit.username == "manage.py seed_demo"

    retired = saved.first()
    retired.status = MemoryStatus.RETIRED
    retired.save()
    call_command("seed_demo")
    assert f"{len(DEMO_QUESTIONS)} demo questions were already saved; unchanged." in capsys.readouterr().out
    assert saved.count() == len(DEMO_QUESTIONS)
    retired.refresh_from_db()
    assert retired.status == MemoryStatus.RETIRED  # an admin's decision stands
    assert AuditLog.objects.filter(action="memory.import").count() == 1


@pytest.mark.django_db(transaction=True)
async def test_every_saved_sql_passes_the_gate_and_returns_rows(demo_source, admin):
    created, _ = await sync_to_async(demo_questions_save)(source=demo_source, by="test")
    assert created == len(DEMO_QUESTIONS)
    for question, sql in DEMO_QUESTIONS:
        result = await data_source_query(source=demo_source, sql=sql, principal=admin, dry_run=True)
        assert result.row_count > 0 and not result.truncated, question
        assert result.checked.tables, question
    assert not await sync_to_async(AuditLog.objects.filter(action="agent.sql_refused").exists)()
