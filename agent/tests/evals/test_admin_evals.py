"""Evaluation in the admin: runs with their accuracy and a report page staff reach with their admin session."""

import pytest
from django.test import Client

from agent.models import EvalResult, EvalRun, EvalRunStatus, EvalSet

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(demo_source):
    eval_set = EvalSet.objects.create(name="s", data_source=demo_source)
    run = EvalRun.objects.create(
        eval_set=eval_set,
        status=EvalRunStatus.SUCCEEDED,
        summary={"cases": 1, "matched": 1, "execution_accuracy": 1.0, "by_confidence": {}, "latency_ms": {}},
    )
    EvalResult.objects.create(run=run, question="How many customers are there?", matched=True)
    return run


def test_admin_lists_runs_and_links_the_report(admin, run):
    client = Client()
    client.force_login(admin)
    listing = client.get("/admin/agent/evalrun/")
    assert listing.status_code == 200 and "100.0%" in listing.content.decode()
    report = client.get(f"/admin/agent/evalrun/{run.pk}/report/")
    assert report.status_code == 200 and "How many customers are there?" in report.content.decode()


def test_the_report_needs_an_admin_session(run):
    response = Client().get(f"/admin/agent/evalrun/{run.pk}/report/")
    assert response.status_code == 302 and "/login/" in response["Location"]
