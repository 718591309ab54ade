"""``manage.py create_integration_client --name N --permissions use_chat,read_config [--description D]
[--rate-limit 10000/hour]``.

Prints the client id, secret and API key once (contract §7); they cannot be shown again (rotate instead).
"""

from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils import timezone

from integrations.services import client_create
from majed_vanna.commands import OperatorCommand

EXPIRES_AT_HELP = (
    "When the credentials stop working: an ISO 8601 date (2030-01-31, midnight UTC) or date-time "
    "(2030-01-31T18:00, UTC unless it carries an offset such as Z or +02:00). Must be in the future."
)


def parse_expires_at(text: str) -> datetime:
    """``--expires-at`` as its help says: an ISO 8601 date or date-time, naive means UTC, in the future."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(
            f"--expires-at: {text!r} is not an ISO 8601 date or date-time "
            "(e.g. 2030-01-31, 2030-01-31T18:00 or 2030-01-31T18:00+02:00)."
        )
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    if value <= timezone.now():
        raise CommandError(f"--expires-at: {text} is in the past; give a future date or date-time.")
    return value


class Command(OperatorCommand):
    help = "Create an integration client and print its client id, secret and API key (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="A name people recognise, e.g. the calling system's.")
        parser.add_argument(
            "--permissions", required=True, help="Comma-separated, any of: use_chat, use_tools, read_config."
        )
        parser.add_argument("--description", default="", help="Free text: what the client is for, who owns it.")
        parser.add_argument(
            "--ip-ranges", default="", help="Comma-separated CIDRs the client may call from (default: anywhere)."
        )
        parser.add_argument("--expires-at", default=None, help=EXPIRES_AT_HELP)
        parser.add_argument(
            "--rate-limit",
            default=None,
            help='The client\'s own rate for every scope but auth.login, e.g. "10000/hour" (default: none).',
        )

    def handle(self, *args, name, permissions, description, ip_ranges, expires_at, rate_limit, **options):
        perms = [item.strip() for item in permissions.split(",") if item.strip()]
        if not perms:
            raise CommandError("--permissions needs at least one of use_chat, use_tools, read_config")
        expiry = parse_expires_at(expires_at) if expires_at else None
        try:
            issued = client_create(
                name=name,
                description=description,
                permissions=perms,
                allowed_ip_ranges=[item.strip() for item in ip_ranges.split(",") if item.strip()],
                expires_at=expiry,
                rate_limit=rate_limit,
                actor=None,
            )
        except ValidationError as exc:
            messages = exc.message_dict.items() if hasattr(exc, "error_dict") else [("error", exc.messages)]
            raise CommandError("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in messages)) from exc
        client = issued.client
        self.stdout.write(
            f"Created integration client {client.name!r} with permissions {', '.join(client.permissions)}"
        )
        if client.rate_limit:
            self.stdout.write(f"rate_limit: {client.rate_limit}")
        self.stdout.write(f"client_id: {client.client_id}")
        self.stdout.write(f"client_secret: {issued.client_secret}")
        self.stdout.write(f"api_key: {issued.api_key}")
        self.stdout.write("Store the secret and the API key now: they are not shown again.")
