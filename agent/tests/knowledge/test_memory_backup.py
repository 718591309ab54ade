"""Agent memory is application data (contract §5 "Configuration and backups": a backup holds agent memory):
the memory table is in every backup archive, and a restore brings memories back as they were."""

import json
from pathlib import Path

import pytest

from agent.knowledge.demo_questions import DEMO_QUESTIONS, demo_questions_save
from agent.models import Memory, MemoryScope, MemoryStatus
from config_api.backups.registry import application_tables
from config_api.backups.services import backup_create_now, restore_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def backup_dir(settings, tmp_path):
    settings.MV_BACKUP_DIR = str(tmp_path / "backups")
    settings.MV_LOG_DIR = str(tmp_path / "logs")
    settings.MV_ALLOWED_PATH_ROOTS = [*settings.MV_ALLOWED_PATH_ROOTS, str(tmp_path)]
    return tmp_path / "backups"


def test_the_memory_table_is_backed_up_and_replaced_on_restore():
    [table] = [t for t in application_tables() if t.model is Memory]
    assert table.policy == "replace"


def test_a_backup_holds_memories_and_a_restore_brings_them_back(demo_source, user, backup_dir):
    import zipfile

    demo_questions_save(source=demo_source, by="test")
    private = Memory.objects.create(
        kind="question_sql",
        question="My own question",
        sql="SELECT 1",
        data_source=demo_source,
        scope=MemoryScope.PRIVATE,
        owner=user,
        status=MemoryStatus.DRAFT,
        tags=["mine"],
    )
    before = {m.pk: (m.question, m.sql, m.status, m.scope, m.owner_id, m.tags) for m in Memory.objects.all()}

    backup = backup_create_now(actor_name="test")

    with zipfile.ZipFile(backup.file_path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        rows = [json.loads(line) for line in archive.read("tables/agent.memory.ndjson").splitlines()]
    [entry] = [t for t in manifest["tables"] if t["file"] == "tables/agent.memory.ndjson"]
    assert entry["rows"] == len(DEMO_QUESTIONS) + 1 == len(rows)
    assert str(private.pk) in {str(row.get("id")) for row in rows}

    Memory.objects.all().delete()
    Memory.objects.create(kind="text", content="written after the backup")
    outcomes = restore_file(path=Path(backup.file_path), actor_name="test")

    assert outcomes["agent.memory"]["action"] == "replaced"
    after = {m.pk: (m.question, m.sql, m.status, m.scope, m.owner_id, m.tags) for m in Memory.objects.all()}
    assert after == before
