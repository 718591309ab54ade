"""``manage.py sync_semantic_layer``: progress and the drift report on the terminal; a source that does not
answer fails the command in one line after the others were scanned."""

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AuditLog
from agent.models import SemanticTable

pytestmark = pytest.mark.django_db


def test_one_source_with_its_progress(demo_source):
    out = io.StringIO()
    call_command("sync_semantic_layer", "--data-source", "demo", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Reading the schema of demo"
    assert "  5 tables and views, 25 columns" in lines
    assert any(line.startswith("  orders: 6 columns, 1 with values recorded") for line in lines), lines
    assert "  tables: 5 added, 0 removed, 0 changed" in lines
    assert lines[-1] == "Synchronised the semantic layer of demo."
    assert AuditLog.objects.get(action="semantic.sync").username == "manage.py sync_semantic_layer"


def test_every_enabled_source_and_a_failure_in_one_line(demo_source, shop, shop_path):
    shop_path.unlink()
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("sync_semantic_layer", stdout=out, stderr=err)
    assert str(failed.value).startswith("Could not scan 1 data source(s): shop (The data source did not answer")
    assert "Synchronised the semantic layer of demo." in out.getvalue()
    assert SemanticTable.objects.filter(data_source=demo_source).count() == 5
