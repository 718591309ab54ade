"""Django admin for memories: listed, filtered by kind, status, scope and data source, searched, read; never
changed there (memory writes go through the audited services)."""

import pytest
from django.test import Client

from agent.knowledge.demo_questions import demo_questions_save
from agent.models import Memory, MemoryScope, MemoryStatus

pytestmark = pytest.mark.django_db
LIST = "/admin/agent/memory/"


@pytest.fixture
def staff(admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def memories(demo_source, user):
    demo_questions_save(source=demo_source, by="test")
    note = Memory.objects.create(kind="text", content="Fiscal year starts in April", status=MemoryStatus.DRAFT)
    private = Memory.objects.create(
        kind="question_sql", question="Zebra orders", sql="SELECT 1", scope=MemoryScope.PRIVATE, owner=user
    )
    return note, private


def listed(client: Client, query: str = "") -> str:
    response = client.get(LIST + query)
    assert response.status_code == 200
    return response.content.decode()


def test_memories_are_listed_filtered_and_searched(staff, memories, demo_source):
    _note, private = memories
    page = listed(staff)
    assert "How many customers do we have?" in page and "Fiscal year starts in April" in page
    assert "Fiscal year" in listed(staff, "?kind__exact=text")
    assert "How many customers" not in listed(staff, "?kind__exact=text")
    assert "Fiscal year" in listed(staff, "?status__exact=draft")
    assert "How many customers" not in listed(staff, "?status__exact=draft")
    assert "Zebra orders" in listed(staff, "?scope__exact=private")
    assert "How many customers" not in listed(staff, "?scope__exact=private")
    assert "How many customers" in listed(staff, f"?data_source__id__exact={demo_source.pk}")
    assert "Fiscal year" not in listed(staff, f"?data_source__id__exact={demo_source.pk}")
    found = listed(staff, "?q=cancelled")
    assert "How many orders were cancelled?" in found and "How many customers do we have?" not in found
    assert "Zebra orders" in listed(staff, f"?q={private.owner.username}")


def test_memories_are_read_only_in_the_admin(staff, memories):
    note, _private = memories
    page = staff.get(f"{LIST}{note.pk}/change/")
    assert page.status_code == 200 and "Fiscal year starts in April" in page.content.decode()
    assert staff.get(f"{LIST}add/").status_code == 403
    assert staff.get(f"{LIST}{note.pk}/delete/").status_code == 403
    assert staff.post(f"{LIST}{note.pk}/change/", {"content": "changed"}).status_code == 403
    note.refresh_from_db()
    assert note.content == "Fiscal year starts in April"
