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

from django.conf import settings
from django.core.management.base import CommandError

from integrations.signing import query_pairs, signed_headers
from majed_vanna.commands import OperatorCommand


class Command(OperatorCommand):
    help = "Print X-Client-Id/X-Timestamp/X-Nonce/X-Signature headers and a curl command for a signed request."

    def add_arguments(self, parser):
        parser.add_argument("--client-id", required=True, help="The integration client's id (mvc_...).")
        secret = parser.add_mutually_exclusive_group(required=True)
        secret.add_argument("--secret", help="The client secret (prefer --secret-file: shells keep history)")
        secret.add_argument("--secret-file", help="File holding the client secret, or - for stdin")
        parser.add_argument("--method", default="GET", help="HTTP method (default GET).")
        parser.add_argument(
            "--path",
            required=True,
            help="e.g. /api/v1/auth/me (may include ?query); a full URL also sets the base URL.",
        )
        parser.add_argument("--query", action="append", default=[], help="name=value; repeatable")
        body = parser.add_mutually_exclusive_group()
        body.add_argument("--body", default=None, help="The request body as text (signed byte for byte).")
        body.add_argument("--body-file", default=None, help="File holding the request body (sent with @file).")
        parser.add_argument(
            "--content-type", default="application/json", help="Content-Type sent with a body (default JSON)."
        )
        parser.add_argument(
            "--base-url",
            default=None,
            help="Scheme, host and port the curl line calls (default http://localhost:$PORT, i.e. "
            "scripts/run.sh's server). The signature covers only the path, so any host works.",
        )

    def handle(self, *args, **opts):
        parts = urlsplit(opts["path"])
        if not parts.path.startswith("/"):
            raise CommandError(f"--path: {opts['path']!r} must start with / (e.g. /api/v1/auth/me)")
        url_base = self._base_url(opts["base_url"], parts)
        secret = self._secret(opts)
        body = self._body(opts)
        pairs = query_pairs(parts.query) + query_pairs("&".join(opts["query"]))
        query = urlencode(pairs)
        headers = signed_headers(
            client_id=opts["client_id"], secret=secret, method=opts["method"], path=parts.path, query=pairs, body=body
        )
        for name, value in headers.items():
            self.stdout.write(f"{name}: {value}")
        url = url_base + parts.path + (f"?{query}" if query else "")
        curl = ["curl", "-sS", "-X", opts["method"].upper(), url]
        for name, value in headers.items():
            curl += ["-H", f"{name}: {value}"]
        if body:
            curl += ["-H", f"Content-Type: {opts['content_type']}"]
            curl += ["--data-binary", f"@{opts['body_file']}" if opts["body_file"] else body.decode("utf-8")]
        self.stdout.write(shlex.join(curl))

    @staticmethod
    def _base_url(given: str | None, parts) -> str:
        """``--base-url``, else the origin of a full ``--path`` URL, else this installation's local server."""
        origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None
        base_url = given or origin or f"http://localhost:{settings.PORT}"
        base = urlsplit(base_url)
        if base.scheme not in ("http", "https") or not base.netloc:
            raise CommandError(
                f"--base-url: {base_url!r} needs http:// or https:// and a host, e.g. http://localhost:8000"
            )
        return base_url.rstrip("/")

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
