"""Review round (issue 16 follow-up): evaluation sets keep to the data sources their reader may see, a rename onto
another set's name is a 422 (not a 500 from the unique constraint), and the report escapes what it shows."""

import pytest
from asgiref.sync import async_to_sync

from agent.evals.runner import eval_run_execute
from agent.tests.evals.test_api_evals import CASES, EVALS, imported

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff(superuser, api_client_for):
    return api_client_for(superuser)


def test_a_set_on_a_source_hidden_from_the_reader_is_not_listed_read_or_run(
    api_client_for, admin, staff, demo_source, offline
):
    owner = api_client_for(admin)  # system admin: sees every source
    hidden = imported(owner, demo_source, name="admins only")
    run_id = owner.post(f"{EVALS}/{hidden['id']}/run").json()["data"]["run_id"]
    demo_source.roles = ["admin"]  # now hidden from the superuser role (admin_tools, not system_admin)
    demo_source.save(update_fields=["roles"])

    assert staff.get(EVALS).json()["data"]["total"] == 0
    for url in (
        f"{EVALS}/{hidden['id']}",
        f"{EVALS}/{hidden['id']}/cases",
        f"{EVALS}/{hidden['id']}/export",
        f"{EVALS}/runs/{run_id}",
        f"{EVALS}/runs/{run_id}/report",
    ):
        assert staff.get(url).status_code == 404, url
    assert staff.post(f"{EVALS}/{hidden['id']}/run").status_code == 404
    assert staff.post(f"{EVALS}/runs/{run_id}/baseline").status_code == 404
    assert owner.get(f"{EVALS}/runs/{run_id}").status_code == 200


def test_renaming_a_set_onto_another_sets_name_is_422(staff, demo_source):
    imported(staff, demo_source, name="first")
    second = imported(staff, demo_source, name="second")
    response = staff.patch(f"{EVALS}/{second['id']}", {"name": "first"}, format="json")
    assert response.status_code == 422, response.content
    assert "name" in response.json()["error"]["details"]
    assert staff.patch(f"{EVALS}/{second['id']}", {"name": "second"}, format="json").status_code == 200


def test_the_report_escapes_questions_sql_and_reasons(staff, demo_source, offline):
    script = "<script>alert(1)</script>"
    cases = [{"question": f"How many customers? {script}", "reference_sql": CASES[0]["reference_sql"]}]
    eval_set = imported(staff, demo_source, cases=cases, name=f"set {script}")
    run_id = staff.post(f"{EVALS}/{eval_set['id']}/run").json()["data"]["run_id"]
    async_to_sync(eval_run_execute)(run_id)  # with Redis the job waits for a worker: run it here (else a no-op)
    assert staff.get(f"{EVALS}/runs/{run_id}").json()["data"]["status"] == "succeeded"
    html = staff.get(f"{EVALS}/runs/{run_id}/report").content.decode()
    assert script not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
