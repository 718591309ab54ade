"""JSON decoding with a depth limit checked before decoding (contract §1: a malformed body is 400 BAD_REQUEST).

Python's decoder recurses once per ``[``/``{``: ten thousand of them raise ``RecursionError`` deep inside it
(a 500 before this module existed). ``loads_json`` refuses a document nested deeper than ``MAX_JSON_DEPTH``
(default 64) before decoding anything, with a check made of whole-buffer operations (C speed, no Python loop
per character; about a second at worst for a 10 MB body, while decoding such a body takes several):

1. no more opening brackets in the whole text than the limit: nothing to check (every small body);
2. escapes (``\\\\``, ``\\"``) are dropped, then every other quote-delimited piece (the strings), then every
   byte but brackets (``{}`` counted as ``[]``);
3. innermost pairs ``[]`` are removed, a few passes (each lowers the deepest point by exactly one level), and
   what remains is measured by its runs of ``[`` and ``]``. A run of more than ``limit`` opening brackets, or
   brackets that cannot balance, end the check at once.

Text after a byte the decoder would refuse (a backslash outside a string) may be measured loosely; the decoder
stops there, so only what it would read counts. Every JSON decoder of the project uses this module: the DRF
parser (``JSONParser``, first in ``DEFAULT_PARSER_CLASSES``), WebSocket messages (``majed_vanna.ws``) and any
async view that reads a body itself (call ``loads_json(request.body)``).
"""

import itertools
import json
import operator
import re

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant

DEFAULT_MAX_JSON_DEPTH = 64
_PAIR_PASSES = 8

_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_RUNS = re.compile(rb"\[+|\]+")


class JSONTooDeep(ValueError):
    """The document nests deeper than the limit (or its brackets do not balance)."""


def max_json_depth() -> int:
    return int(getattr(settings, "MAX_JSON_DEPTH", DEFAULT_MAX_JSON_DEPTH))


def _brackets_outside_strings(data: bytes) -> bytes:
    if b'"' in data:
        if b"\\" in data:
            data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
        data = b"".join(data.split(b'"')[::2])  # an unterminated string runs to the end
    return data.translate(_SQUARE, _NOT_BRACKETS)


def json_depth_exceeds(text: str | bytes, *, limit: int) -> bool:
    """True when ``text`` nests brackets (outside strings) deeper than ``limit``, or they cannot balance."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    brackets = _brackets_outside_strings(data)
    too_deep = b"[" * (limit + 1)
    passes = min(_PAIR_PASSES, limit)
    for _ in range(passes):
        if not brackets:
            return False
        if too_deep in brackets:
            return True
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):  # nothing left to pair: unbalanced
            return True
        brackets = shorter
    if not brackets:
        return False
    if brackets.startswith(b"]"):
        return True
    # Runs alternate "[[[" and "]]": the depth after each run, against what the passes left of the limit.
    depths = itertools.accumulate(map(operator.mul, map(len, _RUNS.findall(brackets)), itertools.cycle((1, -1))))
    return any(map((limit - passes).__lt__, depths))


def check_json_depth(text: str | bytes) -> None:
    limit = max_json_depth()
    if json_depth_exceeds(text, limit=limit):
        raise JSONTooDeep(f"JSON nested more than {limit} levels deep")


def loads_json(text: str | bytes, **kwargs):
    """``json.loads`` after the depth check; ``ValueError`` (``JSONTooDeep`` among them) for anything refused."""
    check_json_depth(text)
    try:
        return json.loads(text, **kwargs)
    except RecursionError as exc:  # cannot happen within the limit; never let it escape as one
        raise JSONTooDeep("JSON nested too deeply") from exc


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser (strict: no ``NaN``) with the depth check before decoding."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        try:
            return loads_json(raw.decode(encoding), parse_constant=strict_constant if self.strict else None)
        except LookupError as exc:  # an unknown charset in Content-Type
            raise ParseError("JSON parse error - unknown charset") from exc
        except ValueError as exc:  # malformed, not valid text in its charset, or too deep
            raise ParseError(f"JSON parse error - {exc}") from exc
