"""``manage.py check_health``: prints the health report (as ``GET /api/v1/health``) and exits non-zero
when the service is unhealthy (contract §7)."""

import json

from django.core.management.base import CommandError

from health.registry import UNHEALTHY
from health.runner import health_report_sync
from majed_vanna.commands import OperatorCommand


class Command(OperatorCommand):
    help = "Run every health check; print the report as JSON; exit 1 when unhealthy."

    def handle(self, *args, **options):
        report = health_report_sync()
        self.stdout.write(json.dumps(report, indent=2))
        if report["status"] == UNHEALTHY:
            failing = sorted(name for name, check in report["checks"].items() if check["status"] == UNHEALTHY)
            raise CommandError(f"Service is unhealthy: {', '.join(failing)}", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"Service is {report['status']}"))
