"""Browser check: every admin change list fits a 1400-px-wide screen (issue 12), measured in headless Chromium.

Not part of the test suite (it needs a browser). Run it by hand, with ``chromium`` installed
(``apt-get install chromium``)::

    MV_DATA_DIR=$(mktemp -d) .venv/bin/python -m pytest scripts/check_admin_layout.py -q -p no:cacheprovider -s

Each registered model's change list is rendered with long, realistic values (an admin logged in, the filter
sidebar shown), written to a file with the admin's CSS, opened at 1400x900, and the table's width without
wrapping compared with the room it has. ``ADMIN_SCREENSHOTS=dir`` also keeps a screenshot per page.
"""

import os
import re
import shutil
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.admin import site as admin_site
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from django.utils import timezone

WIDTH = 1400
MEASURE = """<script>
localStorage.setItem("django.admin.navSidebarIsOpen", "true");
window.addEventListener("load", function () {
  var table = document.querySelector("#result_list");
  var box = document.querySelector("#changelist .results") || document.body;
  var page = document.documentElement.scrollWidth, room = box.clientWidth, natural = 0;
  if (table) { table.style.width = "max-content"; natural = table.scrollWidth; table.style.width = ""; }
  var out = document.createElement("div");
  out.id = "measured";
  out.textContent = "page=" + page + " natural=" + natural + " room=" + room;
  document.body.appendChild(out);
});
</script>"""


def _browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return name
    pytest.fail("This check needs chromium (apt-get install chromium).")


def _long_data(admin_user):
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.services import audit_record
    from accounts.tests.factories import UserFactory
    from config_api.models import Backup, BackupStatus
    from config_api.services import config_update
    from integrations.services import client_create, client_revoke

    for n in range(3):
        person = UserFactory(username=f"a.rather.long.first.name.lastname{n}@subsidiary.example-company.com")
        RefreshToken.for_user(person).blacklist()
    for _ in range(5):
        row = audit_record(
            action="integration_client.credentials_rotate",
            actor=admin_user,
            resource="integration_client",
            resource_id="x" * 64,
            details={"changes": {"permissions": {"old": ["use_chat"], "new": ["read_config", "use_chat"]}}},
            error_message="e" * 300,
        )
        row.ip_address = "2001:db8:85a3::8a2e:370:7334"
        row.user_agent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"
        row.request_id = "r" * 32
        row.save()
    for n in range(3):
        issued = client_create(
            name=f"Nightly reporting export for the finance department, region {n} " + "x" * 30,
            description="d" * 400,
            permissions=["use_chat", "use_tools", "read_config"],
            expires_at=timezone.now() + timedelta(days=30),
            actor=admin_user,
        )
    client_revoke(client=issued.client, actor=admin_user)
    Backup.objects.create(status=BackupStatus.FAILED, error="OperationalError: " + "could not write the archive " * 20)
    Backup.objects.create(
        status=BackupStatus.SUCCEEDED,
        size_bytes=123_456_789_012,
        restore_status=BackupStatus.FAILED,
        restore_error="The archive's checksum does not match the catalog " * 5,
    )
    Backup.objects.create(status=BackupStatus.PENDING)
    config_update(actor=admin_user, changes={"llm_model": "m" * 150})


def _page(client: Client, url: str) -> str | None:
    response = client.get(url)
    if response.status_code != 200:
        return None
    html = response.content.decode()

    def local(match):
        found = finders.find(match.group(2))
        return f'{match.group(1)}="file://{found}"' if found else match.group(0)

    html = re.sub(r'(href|src)="/static/([^"?]+)[^"]*"', local, html)
    return html.replace("</body>", MEASURE + "</body>")


@pytest.mark.django_db
def test_every_change_list_fits_1400_px(admin, settings, tmp_path):
    settings.MV_BACKUP_DIR = str(tmp_path / "backups")
    settings.MV_ALLOWED_PATH_ROOTS = [str(tmp_path)]
    browser = _browser()
    _long_data(admin)
    client = Client()
    client.force_login(admin)
    shots = os.environ.get("ADMIN_SCREENSHOTS")
    results = {}
    for model in admin_site._registry:
        name = f"{model._meta.app_label}.{model._meta.model_name}"
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        html = _page(client, url)
        if html is None:
            continue
        page = Path(tempfile.mkdtemp(dir=tmp_path)) / "page.html"
        page.write_text(html)
        common = [browser, "--headless", "--no-sandbox", "--disable-gpu", f"--window-size={WIDTH},900"]
        dom = subprocess.run(  # noqa: S603 - our browser, our file
            [*common, "--virtual-time-budget=3000", "--dump-dom", page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        ).stdout
        measured = re.search(r"page=(\d+) natural=(\d+) room=(\d+)", dom)
        assert measured, f"{name}: no measurement ({dom[-300:]})"
        results[name] = tuple(int(n) for n in measured.groups())
        if shots:
            subprocess.run(  # noqa: S603
                [*common, f"--screenshot={Path(shots) / (name + '.png')}", page.as_uri()],
                capture_output=True,
                timeout=120,
                check=False,
            )
    for name, (page_width, natural, room) in sorted(results.items()):
        print(f"{name:42} page {page_width:5} px   table unwrapped {natural:5} px, room {room:5} px")
    too_wide = {name: r for name, r in results.items() if r[0] > WIDTH or r[1] > r[2]}
    assert not too_wide, f"wider than the screen: {too_wide}"
