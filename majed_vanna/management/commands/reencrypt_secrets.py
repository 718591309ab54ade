"""``manage.py reencrypt_secrets [--field NAME]``: rewrite every encrypted field with the newest key.

Step 2 of a key rotation (README "Rotating SECRET_KEY"): after the old ``SECRET_KEY`` moved to
``SECRET_KEY_FALLBACKS`` (or a new ``INTEGRATIONS_ENCRYPTION_KEYS`` entry was put first), every stored secret
is decrypted with whichever key still opens it and encrypted again with the newest one. The fields are those
the apps register (``majed_vanna.crypto.register_encrypted_field``): the LLM API key of the runtime
configuration and the integration clients' signing secrets.
"""

from django.core.management.base import CommandError

from majed_vanna.commands import OperatorCommand
from majed_vanna.crypto import encrypted_fields


class Command(OperatorCommand):
    help = "Re-encrypt every stored secret (LLM API key, integration client secrets) with the newest key."

    def add_arguments(self, parser):
        parser.add_argument(
            "--field",
            action="append",
            dest="fields",
            metavar="NAME",
            help="Only this encrypted field (repeatable); default: all of them. Names: "
            + ", ".join(field.name for field in encrypted_fields()),
        )

    def handle(self, *args, fields=None, **options):
        known = {field.name: field for field in encrypted_fields()}
        unknown = sorted(set(fields or ()) - set(known))
        if unknown:
            raise CommandError(f"Unknown field {', '.join(unknown)}; choose from {', '.join(sorted(known))}.")
        chosen = [known[name] for name in fields] if fields else list(known.values())
        unreadable: list[tuple[str, int]] = []
        for number, field in enumerate(chosen, start=1):
            self.stdout.write(f"[{number}/{len(chosen)}] {field.label} ({field.name})...")
            result = field.reencrypt()
            line = f"    {result.reencrypted} re-encrypted"
            if result.empty:
                line += f", {result.empty} not set"
            if result.unreadable:
                line += f", {result.unreadable} could not be decrypted (left unchanged)"
                unreadable.append((field.label, result.unreadable))
            self.stdout.write(line)
        if unreadable:
            total = sum(count for _, count in unreadable)
            which = ", ".join(f"{label}: {count}" for label, count in unreadable)
            raise CommandError(
                f"{total} secret(s) ({which}) could not be decrypted with SECRET_KEY, SECRET_KEY_FALLBACKS or any "
                "configured key; they were left unchanged (put the old key back in SECRET_KEY_FALLBACKS and run "
                "this again, or set those secrets anew)."
            )
        self.stdout.write(self.style.SUCCESS("Every encrypted field now uses the newest key."))
