"""Review round: the feedback queue keeps to the data sources its reviewer may see (a feedback's question, SQL and
comment are its source's data). A reviewer with admin_tools whose role a source leaves out neither lists nor
reviews its feedback; a system admin sees everything."""

import pytest

from agent.models import Feedback

pytestmark = pytest.mark.django_db(transaction=True)
FEEDBACK = "/api/v1/agent/feedback"


def test_feedback_on_a_hidden_source_is_not_listed_or_reviewable(demo_source, superuser, admin, api_client_for):
    hidden = Feedback.objects.create(
        data_source=demo_source, rating="down", question="secret revenue?", sql="SELECT 1", author_name="x"
    )
    orphan = Feedback.objects.create(data_source=None, rating="up", question="q", sql="SELECT 1", author_name="y")
    demo_source.roles = ["admin"]
    demo_source.save(update_fields=["roles"])

    reviewer = api_client_for(superuser)
    listed = reviewer.get(FEEDBACK).json()["data"]
    assert [row["id"] for row in listed["feedback"]] == [str(orphan.pk)]
    assert reviewer.post(f"{FEEDBACK}/{hidden.pk}/reject", {}, format="json").status_code == 404
    assert reviewer.post(f"{FEEDBACK}/{hidden.pk}/approve", {}, format="json").status_code == 404

    system = api_client_for(admin)
    assert {row["id"] for row in system.get(FEEDBACK).json()["data"]["feedback"]} == {str(hidden.pk), str(orphan.pk)}
    assert system.post(f"{FEEDBACK}/{hidden.pk}/reject", {}, format="json").status_code == 200
