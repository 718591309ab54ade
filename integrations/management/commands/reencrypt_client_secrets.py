"""``manage.py reencrypt_client_secrets``: kept as an alias of ``manage.py reencrypt_secrets --field
integrations.client_secret`` (re-encrypt the integration clients' secrets only)."""

from majed_vanna.management.commands.reencrypt_secrets import Command as ReencryptSecretsCommand


class Command(ReencryptSecretsCommand):
    help = "Alias of 'reencrypt_secrets --field integrations.client_secret': re-encrypt integration client secrets."

    def add_arguments(self, parser):
        pass

    def handle(self, *args, **options):
        return super().handle(*args, fields=["integrations.client_secret"])
