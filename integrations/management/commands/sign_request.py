"""``manage.py sign_request``: print the signature headers (and a curl line) for one request.

    manage.py sign_request --client-id mvc_... --secret-file secret.txt --method POST \\
        --path /api/v1/agent/chat_poll --body '{"message": "hi"}'

The secret is read from ``--secret-file`` (``-`` for stdin) or ``--secret``. The headers are valid for one
request within 300 s of now.
"""

import shlex
import sys
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from django.core.management.base import BaseCommand, CommandError

from integrations.signing import query_pairs, signed_headers


class Command(BaseCommand):
    help = "Print X-Client-Id/X-Timestamp/X-Nonce/X-Signature headers and a curl command for a signed request."
    stealth_options = ("stdin",)  # tests pass a stream in place of sys.stdin

    def add_arguments(self, parser):
        parser.add_argument("--client-id", required=True)
        secret = parser.add_mutually_exclusive_group(required=True)
        secret.add_argument("--secret", help="The client secret (prefer --secret-file: shells keep history)")
        secret.add_argument("--secret-file", help="File holding the client secret, or - for stdin")
        parser.add_argument("--method", default="GET")
        parser.add_argument("--path", required=True, help="e.g. /api/v1/auth/me (may include ?query)")
        parser.add_argument("--query", action="append", default=[], help="name=value; repeatable")
        body = parser.add_mutually_exclusive_group()
        body.add_argument("--body", default=None)
        body.add_argument("--body-file", default=None)
        parser.add_argument("--content-type", default="application/json")
        parser.add_argument("--base-url", default="http://localhost:7777")

    def handle(self, *args, **opts):
        secret = self._secret(opts)
        body = self._body(opts)
        parts = urlsplit(opts["path"])
        pairs = query_pairs(parts.query) + query_pairs("&".join(opts["query"]))
        query = urlencode(pairs)
        headers = signed_headers(
            client_id=opts["client_id"], secret=secret, method=opts["method"], path=parts.path, query=pairs, body=body
        )
        for name, value in headers.items():
            self.stdout.write(f"{name}: {value}")
        url = opts["base_url"].rstrip("/") + parts.path + (f"?{query}" if query else "")
        curl = ["curl", "-sS", "-X", opts["method"].upper(), url]
        for name, value in headers.items():
            curl += ["-H", f"{name}: {value}"]
        if body:
            curl += ["-H", f"Content-Type: {opts['content_type']}"]
            curl += ["--data-binary", f"@{opts['body_file']}" if opts["body_file"] else body.decode("utf-8")]
        self.stdout.write(shlex.join(curl))

    @staticmethod
    def _secret(opts) -> str:
        if opts["secret"]:
            return opts["secret"]
        source = opts["secret_file"]
        try:
            text = (opts.get("stdin") or sys.stdin).read() if source == "-" else Path(source).read_text()
        except OSError as exc:
            raise CommandError(f"Cannot read the secret file: {exc.strerror}") from exc
        if not text.strip():
            raise CommandError("The secret file is empty")
        return text.strip()

    @staticmethod
    def _body(opts) -> bytes:
        if opts["body_file"]:
            try:
                return Path(opts["body_file"]).read_bytes()
            except OSError as exc:
                raise CommandError(f"Cannot read the body file: {exc.strerror}") from exc
        return (opts["body"] or "").encode("utf-8")
