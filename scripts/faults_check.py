"""The end of ``scripts/faults.sh``: checks the drill's ledger against the database, prints the summary line.

Usage (with the server's environment): ``python scripts/faults_check.py LEDGER PROBLEMS TOTAL PARTS SECONDS``.
Each ledger line is ``PHASE KIND KEY STATUS``:

* ``user <username> <status>`` (``POST users``): a 2xx is in the database with its ``user.create`` audit row;
  anything else left neither (a 503 means nothing was done);
* ``login <request id> <status>``: a 200 has its ``auth.login`` audit row; anything else has none, and a 503
  while the database was up (every phase but ``postgres-stopped``) has its ``auth.login_failed`` row.

A part that records another kind adds its check to ``CHECKS``. ``PROBLEMS`` holds what the shell parts found
(timings over budget, no recovery, 500s). Exit status 0 only when there is no problem at all.
"""

import os
import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "majed_vanna.settings")
django.setup()

from accounts.models import AuditLog, User  # noqa: E402

DATABASE_DOWN_PHASES = {"postgres-stopped"}


def check_user(phase: str, username: str, status: str, counts: dict) -> list[str]:
    exists = User.objects.filter(username=username).exists()
    audited = AuditLog.objects.filter(action="user.create", details__username=username).exists()
    if status.startswith("2"):
        counts["writes acknowledged"] += 1
        if not (exists and audited):
            return [f"{phase}: POST users {username} answered {status} but user={exists} audit={audited}"]
    else:
        counts["writes refused"] += 1
        if exists or audited:
            return [f"{phase}: POST users {username} answered {status} but left user={exists} audit={audited}"]
    return []


def check_login(phase: str, request_id: str, status: str, counts: dict) -> list[str]:
    rows = AuditLog.objects.filter(request_id=request_id)
    succeeded = rows.filter(action="auth.login").exists()
    failed = rows.filter(action="auth.login_failed").exists()
    counts["logins"] += 1
    if status == "200":
        return [] if succeeded else [f"{phase}: login {request_id} answered 200 without its audit row"]
    if succeeded:
        return [f"{phase}: login {request_id} answered {status} but was recorded as a success"]
    if phase not in DATABASE_DOWN_PHASES and not failed:
        return [f"{phase}: login {request_id} answered {status} and left no audit row"]
    counts["refused logins audited" if failed else "refused logins (database down)"] += 1
    return []


CHECKS = {"user": check_user, "login": check_login}


def main(ledger: str, problems_file: str, total: str, parts: str, seconds: str) -> int:
    problems = [line for line in Path(problems_file).read_text().splitlines() if line.strip()]
    counts: dict[str, int] = dict.fromkeys(
        ("writes acknowledged", "writes refused", "logins", "refused logins audited", "refused logins (database down)"),
        0,
    )
    for line in Path(ledger).read_text().splitlines():
        phase, kind, key, status = line.split()
        check = CHECKS.get(kind)
        problems += check(phase, key, status, counts) if check else [f"no check for ledger kind {kind!r}"]
    for problem in problems:
        print(f"  !! {problem}")
    figures = ", ".join(f"{value} {name}" for name, value in counts.items())
    head = f"faults: {total} requests in {seconds} s (parts: {parts or 'none'}); {figures}"
    if problems:
        print(f"{head}; FAILED: {len(problems)} problem(s)")
        return 1
    print(f"{head}; nothing lost, every dependency recovered")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:6]))
