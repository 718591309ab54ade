"""``manage.py train_agent`` and ``import_memory``, and memories that outlive the process that saved them."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from agent.models import Memory, MemoryKind, MemoryStatus
from agent.services.memory import export_item
from majed_vanna.tests.servers import migrated_sqlite, run_manage, server_env

from .conftest import SHIPPED, SHIPPED_SQL

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def training_dir(tmp_path, pairs):
    root = tmp_path / "training"
    (root / "docs").mkdir(parents=True)
    (root / "schema.sql").write_text("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT, total REAL);\n")
    (root / "docs" / "glossary.md").write_text("# Glossary\n\nA *shipped* order has left the warehouse.\n")
    (root / "pairs.json").write_text(json.dumps(pairs))
    (root / "notes.bin").write_bytes(b"\x00ignored")
    return root


def test_train_agent_loads_ddl_documentation_and_pairs_with_progress(tmp_path, shop_source, admin):
    root = training_dir(tmp_path, [{"question": SHIPPED, "sql": SHIPPED_SQL}])
    out = run("train_agent", str(root), "--data-source", "shop")
    assert "checked 3/3" in out and "pairs.json" in out
    assert "Trained from 3 files: 3 memories added, 0 merged." in out
    kinds = dict(Memory.objects.values_list("kind", "status").order_by("kind"))
    assert kinds == {MemoryKind.DDL: "approved", MemoryKind.QUESTION_SQL: "approved", MemoryKind.TEXT: "approved"}
    assert Memory.objects.get(kind=MemoryKind.TEXT).tags == ["glossary"]
    assert {m.data_source_id for m in Memory.objects.all()} == {shop_source.pk}
    again = run("train_agent", str(root), "--data-source", "shop", "--draft")
    assert "1 merged" in again  # the pair is merged; the files' notes are added again as drafts


def test_train_agent_stores_nothing_when_one_pair_is_refused(tmp_path, shop_source, admin):
    root = training_dir(tmp_path, [{"question": SHIPPED, "sql": SHIPPED_SQL}, {"question": "x", "sql": "DROP TABLE t"}])
    with pytest.raises(CommandError, match="rule"):
        run("train_agent", str(root), "--data-source", "shop")
    assert not Memory.objects.exists()


def test_import_memory_reads_an_export(tmp_path, shop_source, admin):
    memory = Memory.objects.create(
        kind=MemoryKind.QUESTION_SQL, question=SHIPPED, sql=SHIPPED_SQL, data_source=shop_source, status="approved"
    )
    exported = tmp_path / "memories.json"
    exported.write_text(json.dumps({"memories": [export_item(memory)]}))
    memory.delete()
    assert "Imported 1 memories, merged 0" in run("import_memory", str(exported))
    restored = Memory.objects.get()
    assert (restored.question, restored.sql, restored.data_source, restored.status) == (
        SHIPPED,
        SHIPPED_SQL,
        shop_source,
        MemoryStatus.APPROVED,
    )
    exported.write_text(json.dumps([{"kind": "question_sql", "question": "q", "sql": "s", "data_source": "nowhere"}]))
    with pytest.raises(CommandError, match="no data source 'nowhere'"):
        run("import_memory", str(exported))


WRITE = """
from accounts.tests.factories import UserFactory
from agent.models import Memory
from agent.services.memory import memory_create
owner = UserFactory(role="admin", username="owner@example.com")
UserFactory(role="admin", username="other@example.com")
memory_create(actor=owner, data={"kind": "text", "content": "Owner's secret note", "scope": "private"})
Memory.objects.create(kind="question_sql", question="How many orders have shipped?", sql="SELECT 1",
                      status="approved")
"""
READ = """
import json
from accounts.models import User
from agent import selectors
from agent.knowledge.memory import saved_questions_search
seen = {}
for email in ("owner@example.com", "other@example.com"):
    user = User.objects.get(username=email)
    found = saved_questions_search(user, None, "number of shipped orders", limit=1)
    seen[email] = {"contents": sorted(m.content or m.question for m in selectors.memories_visible(user)),
                   "best": found[0]["question"] if found else None}
print(json.dumps(seen))
"""


@pytest.mark.slow
def test_memories_outlive_the_process_that_saved_them(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("memory-restart")
    env = server_env(data_dir=data_dir, settings_module="majed_vanna.settings.test", extra=migrated_sqlite(data_dir))
    written = run_manage("shell", "-c", WRITE, env=env, timeout=60)
    assert written.returncode == 0, written.stderr[-2000:]
    read = run_manage("shell", "-c", READ, env=env, timeout=60)
    assert read.returncode == 0, read.stderr[-2000:]
    seen = json.loads(read.stdout.strip().splitlines()[-1])
    assert seen["owner@example.com"] == {
        "contents": ["How many orders have shipped?", "Owner's secret note"],
        "best": "How many orders have shipped?",
    }
    assert seen["other@example.com"]["contents"] == ["How many orders have shipped?"]
