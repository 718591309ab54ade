"""The configuration and backup routes, declared for the shared endpoint checks."""

from majed_vanna.tests.endpoint_cases import Endpoint

BACKUP = "/api/v1/backups/{id}"
BACKUPS = {"permission": "backup_restore", "denied": ("normal", "superuser")}
CONFIG_ADMIN = {"permission": "update_config", "denied": ("normal", "superuser")}


def a_backup() -> dict:
    """A catalog row without an archive (a failed backup): enough to find, read and refuse things on."""
    from config_api.models import Backup, BackupStatus

    return {"id": Backup.objects.create(status=BackupStatus.FAILED, error="declared for the endpoint checks").pk}


ENDPOINTS = [
    Endpoint("GET", "/api/v1/config", permission="read_config"),
    Endpoint("PUT", "/api/v1/config", **CONFIG_ADMIN, bad_body={"rate_limit_max_requests": 0}),
    Endpoint("POST", "/api/v1/config/test-database", **CONFIG_ADMIN),
    Endpoint("POST", "/api/v1/config/test-llm", **CONFIG_ADMIN),
    Endpoint("GET", "/api/v1/backups", **BACKUPS, results_key="backups"),
    Endpoint("POST", "/api/v1/backups", **BACKUPS),
    Endpoint("GET", BACKUP, **BACKUPS, target=a_backup),
    Endpoint("DELETE", BACKUP, **BACKUPS, target=a_backup),
    # The archive is application/zip, not an envelope; its own tests download real ones.
    Endpoint("GET", BACKUP + "/download", **BACKUPS, target=a_backup, ok=False),
    Endpoint("POST", BACKUP + "/restore", **BACKUPS, target=a_backup, bad_body={"confirm": False}),
    Endpoint("POST", "/api/v1/backups/upload", **BACKUPS, multipart=True, bad_body={}),
]
