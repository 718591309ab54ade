"""``agent/evals`` over HTTP: sets, cases checked by the gate, runs (202), results, baseline, report, import/export."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

EVALS = "/api/v1/agent/evals"
CASES = [
    {"question": "How many customers are there?", "reference_sql": "SELECT count(*) FROM customers"},
    {"question": "How many products are there?", "reference_sql": "SELECT count(*) FROM products", "notes": "n"},
]


@pytest.fixture
def staff(superuser, api_client_for):
    return api_client_for(superuser)


def imported(client, source, cases=CASES, name="demo set"):
    response = client.post(f"{EVALS}/import", {"name": name, "data_source": source.name, "cases": cases}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def test_import_export_round_trip(staff, demo_source):
    created = imported(staff, demo_source)
    assert created["case_count"] == 2 and created["data_source_name"] == "demo"
    exported = staff.get(f"{EVALS}/{created['id']}/export").json()["data"]
    assert exported["cases"][1] == {**CASES[1]}
    assert staff.get(f"{EVALS}/{created['id']}/cases").json()["data"]["total"] == 2


def test_a_reference_the_gate_refuses_is_422_with_the_rule_and_nothing_is_imported(staff, demo_source):
    bad = [*CASES, {"question": "wipe", "reference_sql": "DELETE FROM customers"}]
    response = staff.post(f"{EVALS}/import", {"name": "x", "data_source": "demo", "cases": bad}, format="json")
    assert response.status_code == 422
    assert "rule" in response.json()["error"]["details"]["cases[2].reference_sql"][0]
    assert staff.get(EVALS).json()["data"]["total"] == 0


def test_cases_are_added_changed_and_deleted(staff, demo_source):
    eval_set = imported(staff, demo_source)
    url = f"{EVALS}/{eval_set['id']}/cases"
    added = staff.post(url, {"question": "q", "reference_sql": "SELECT 1"}, format="json")
    assert added.status_code == 201
    case_url = f"{url}/{added.json()['data']['id']}"
    refused = staff.patch(case_url, {"reference_sql": "DROP TABLE orders"}, format="json")
    assert refused.status_code == 422 and "reference_sql" in refused.json()["error"]["details"]
    assert staff.patch(case_url, {"notes": "why"}, format="json").json()["data"]["notes"] == "why"
    assert staff.delete(case_url).status_code == 200
    assert staff.get(case_url).status_code == 404


def test_run_is_202_then_results_summary_baseline_and_report(staff, demo_source, offline, admin):
    eval_set = imported(staff, demo_source)
    started = staff.post(f"{EVALS}/{eval_set['id']}/run")
    assert started.status_code == 202
    run_id = started.json()["data"]["run_id"]
    run = staff.get(f"{EVALS}/runs/{run_id}").json()["data"]  # eager without Redis: finished already
    assert run["status"] == "succeeded" and run["progress"] == {"done": 2, "total": 2}
    assert len(run["results"]) == 2 and run["summary"]["cases"] == 2
    assert staff.post(f"{EVALS}/runs/{run_id}/baseline").json()["data"]["is_baseline"] is True
    report = staff.get(f"{EVALS}/runs/{run_id}/report")
    assert report.status_code == 200 and report["Content-Type"].startswith("text/html")
    assert "How many customers are there?" in report.content.decode()
    listed = staff.get(f"{EVALS}/{eval_set['id']}/runs").json()["data"]
    assert listed["total"] == 1 and listed["runs"][0]["is_baseline"] is True


def test_normal_users_cannot_see_or_run_evaluations(api_client_for, user, staff, demo_source):
    eval_set = imported(staff, demo_source)
    normal = api_client_for(user)
    assert normal.get(EVALS).status_code == 403
    assert normal.post(f"{EVALS}/{eval_set['id']}/run").status_code == 403
