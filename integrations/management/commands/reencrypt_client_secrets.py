"""``manage.py reencrypt_client_secrets``: re-encrypt every client secret with the newest key of
``INTEGRATIONS_ENCRYPTION_KEYS`` (step 2 of a key rotation; see the README "Integration clients")."""

from django.core.management.base import CommandError

from integrations.services import client_secrets_reencrypt
from majed_vanna.commands import OperatorCommand


class Command(OperatorCommand):
    help = "Re-encrypt integration client secrets with the newest INTEGRATIONS_ENCRYPTION_KEYS entry."

    def handle(self, *args, **options):
        done, failed = client_secrets_reencrypt()
        self.stdout.write(f"Re-encrypted {done} client secret(s).")
        if failed:
            raise CommandError(
                f"{failed} secret(s) could not be decrypted with any configured key; they were left unchanged "
                "(rotate those clients' credentials)."
            )
