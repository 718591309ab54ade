"""``data_source_query``: the gate with the source's introspected tables, then the read-only runner; refusals
(by the gate, or by the engine's own guard) are audited as ``agent.sql_refused`` and raised as SQL_REFUSED."""

import pytest
from asgiref.sync import async_to_sync

from accounts.models import AuditLog
from agent import demo
from agent.services import data_source_create
from agent.services.queries import data_source_query, schema_table_names
from agent.sql.types import CheckedSQL, SqlRefused

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(settings, tmp_path, admin):
    settings.MV_ALLOWED_PATH_ROOTS = [str(tmp_path)]
    path = tmp_path / "demo.sqlite3"
    demo.build_demo_sqlite(path)
    return data_source_create(actor=admin, name="demo-e2e", url=f"sqlite:///{path}", row_cap=50)


def query(source, sql, principal):
    return async_to_sync(data_source_query)(source=source, sql=sql, principal=principal)


def test_a_read_returns_rows_within_the_sources_caps(source, user):
    result = query(source, "SELECT id, status FROM orders ORDER BY id", user)
    assert result.columns == ["id", "status"]
    assert result.row_count == 50 and result.truncated is True
    assert result.rows[0][0] == 1


def test_a_refusal_by_the_gate_is_audited_with_its_rule(source, user):
    with pytest.raises(SqlRefused) as refused:
        query(source, "DELETE FROM orders", user)
    assert refused.value.rule == "write_node" and refused.value.code == "SQL_REFUSED"
    row = AuditLog.objects.get(action="agent.sql_refused")
    assert row.user_id == str(user.pk) and row.success is False
    assert row.details == {"rule": "write_node", "data_source": "demo-e2e", "sql": "DELETE FROM orders"}


def test_a_table_outside_the_introspected_schema_is_refused(source, user):
    with pytest.raises(SqlRefused) as refused:
        query(source, "SELECT * FROM secrets", user)
    assert refused.value.rule == "table"


def test_a_refusal_by_the_engines_guard_is_audited_too(source, user, monkeypatch):
    """Should the gate ever let a write through, the runner's guard refuses it, and that is audited as well."""
    from agent.sql import gate

    monkeypatch.setattr(
        gate, "check", lambda sql, **kw: CheckedSQL(sql=sql, dialect="sqlite", tables=("orders",), functions=())
    )
    with pytest.raises(SqlRefused) as refused:
        query(source, "DELETE FROM orders", user)
    assert refused.value.rule == "engine_guard"
    assert AuditLog.objects.get(action="agent.sql_refused").details["rule"] == "engine_guard"


def test_schema_table_names_qualify_tables_outside_the_default_schema():
    snapshot = {"tables": [{"schema": "public", "name": "orders"}, {"schema": "sales", "name": "q1"}]}
    assert schema_table_names(snapshot) == ["orders", "sales.q1"]
    assert schema_table_names(None) == []
