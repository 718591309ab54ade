"""Backup -> change -> restore through a real Celery worker (a subprocess on the Redis broker).

Conditional: it needs REDIS_URL (the broker) and a server database the worker can reach (the test database
of the PostgreSQL run; SQLite test databases live in this process's memory). The PostgreSQL + Redis run
of ``.ci/run`` runs it; every other backup test runs in both modes with in-process tasks.
"""

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import User
from accounts.tests.factories import UserFactory
from config_api.services import config_update
from majed_vanna.celery import app as celery_app
from majed_vanna.roles import Role

from .helpers import table_digests

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not settings.REDIS_URL or connection.vendor == "sqlite",
        reason="needs REDIS_URL and a PostgreSQL database a worker process can share (the PG+Redis run)",
    ),
]

BACKUPS = "/api/v1/backups"


@pytest.fixture
def real_worker(transactional_db, isolated_paths):
    queue = f"mv_cfg_test_{uuid.uuid4().hex[:8]}"
    node = f"{queue}@127.0.0.1"
    db = connection.settings_dict
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="majed_vanna.settings.test",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        REDIS_URL=settings.REDIS_URL,
        CACHE_KEY_PREFIX=settings.CACHE_KEY_PREFIX,
        MV_BACKUP_DIR=str(isolated_paths / "backups"),
        MV_ALLOWED_PATH_ROOTS=str(isolated_paths),
    )
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    log = (isolated_paths / "worker.log").open("w")
    command = [celery, "-A", "majed_vanna", "worker", "--pool=solo", "--concurrency=1", "-Q", queue, "-n", node]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"]
    worker = subprocess.Popen(
        command,
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    previous_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    try:
        deadline = time.monotonic() + 20
        while not celery_app.control.ping(destination=[node], timeout=0.5):
            assert worker.poll() is None, (isolated_paths / "worker.log").read_text()
            assert time.monotonic() < deadline, "the worker did not start within 20 s"
        yield worker
    finally:
        celery_app.conf.task_default_queue = previous_queue
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=5)
        log.close()


def wait_for(client, backup_id, field, timeout=20.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        data = client.get(f"{BACKUPS}/{backup_id}").json()["data"]
        if data[field] in ("succeeded", "failed") or time.monotonic() > deadline:
            return data
        time.sleep(0.2)


def test_backup_change_restore_through_a_real_worker(real_worker, admin, admin_client, isolated_paths):
    assert celery_app.conf.task_always_eager is False  # the worker, not this process, runs the tasks
    UserFactory.create_batch(3)
    config_update(actor=admin, changes={"rate_limit_max_requests": 321})
    before = table_digests()

    response = admin_client.post(BACKUPS)
    assert response.status_code == 202
    backup_id = response.json()["data"]["backup_id"]
    backup = wait_for(admin_client, backup_id, "status")
    assert backup["status"] == "succeeded", (backup["error"], (isolated_paths / "worker.log").read_text())
    assert backup["row_counts"]["accounts.user"] == 4

    User.objects.exclude(pk=admin.pk).update(role=Role.SUPERUSER)
    UserFactory(username="after-backup@example.com")
    config_update(actor=admin, changes={"rate_limit_max_requests": 9})
    assert table_digests() != before

    response = admin_client.post(f"{BACKUPS}/{backup_id}/restore", {"confirm": True}, format="json")
    assert response.status_code == 202
    restored = wait_for(admin_client, backup_id, "restore_status")
    assert restored["restore_status"] == "succeeded", restored["restore_error"]
    assert table_digests() == before
    log = (isolated_paths / "worker.log").read_text()
    assert "backup_create_task" in log and "restore_task" in log
