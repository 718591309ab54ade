"""JSON depth is refused before decoding (majed_vanna/api/parsers.py): absurdly nested bodies answer 400, cheaply,
on the DRF parser and everywhere else that decodes JSON; a RecursionError never becomes a 500."""

import io
import json
import random
import time

import pytest
from rest_framework.exceptions import ParseError

from majed_vanna.api import parsers
from majed_vanna.api.exception_handler import envelope_for_exception


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("{}", 1),
        ("[[[]]]", 3),
        ('{"a": [1, {"b": [2]}]}', 4),
        ('"[[[[[[[[[["', 0),  # brackets inside a string do not count
        ('["\\"[[[[[[", "]]"]', 1),  # nor after an escaped quote
        ('[{"k": "\\\\"}, [[]]]', 3),  # an escaped backslash ends before the closing quote
        ("[][][][]", 1),
        ("1", 0),
    ],
)
def test_depth_counts_brackets_outside_strings(text, depth):
    assert parsers.json_depth_exceeds(text, limit=depth) is False
    assert parsers.json_depth_exceeds(text.encode(), limit=depth) is False
    if depth:
        assert parsers.json_depth_exceeds(text, limit=depth - 1) is True


@pytest.mark.parametrize("limit", [1, 5, 64])
def test_exactly_the_limit_is_decoded_one_more_is_refused(settings, limit):
    settings.MAX_JSON_DEPTH = limit
    assert parsers.loads_json("[" * limit + "]" * limit) is not None
    with pytest.raises(parsers.JSONTooDeep):
        parsers.loads_json("[" * (limit + 1) + "]" * (limit + 1))


def test_absurd_depth_is_refused_without_decoding(monkeypatch):
    def must_not_decode(*args, **kwargs):
        raise AssertionError("decoded")

    monkeypatch.setattr(parsers.json, "loads", must_not_decode)
    with pytest.raises(parsers.JSONTooDeep):
        parsers.loads_json(b"[" * 10_000)
    with pytest.raises(parsers.JSONTooDeep):
        parsers.loads_json("{" + '"a":{' * 10_000)


def test_malformed_json_is_a_value_error():
    with pytest.raises(ValueError):
        parsers.loads_json("{not json")
    with pytest.raises(ValueError):
        parsers.loads_json('["unterminated')


def _seconds(fn, *args, **kwargs) -> float:
    started = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - started


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(json.dumps([{"name": 'x[{"\\' * 10, "items": [[1, 2], [3, [4]]]}] * 40_000), id="strings"),
        pytest.param("[" + ",".join(["[" * 60 + "]" * 60] * 25_000) + "]", id="deep-groups"),
        pytest.param("[" + "[]," * 1_000_000 + "[]]", id="flat"),
    ],
)
def test_the_check_costs_less_than_decoding_a_large_body(body):
    """~3 MB bodies within the limit: accepted, and checked faster than ``json.loads`` decodes them (whole-buffer
    operations, no Python loop per character)."""
    assert len(body) > 2_500_000
    assert parsers.json_depth_exceeds(body, limit=64) is False
    assert _seconds(parsers.json_depth_exceeds, body, limit=64) < _seconds(json.loads, body)


def test_a_large_body_one_level_too_deep_is_found():
    deep = "[" * 64 + "]" * 64
    assert parsers.json_depth_exceeds("[" + deep + "]", limit=64) is True
    assert parsers.json_depth_exceeds(deep * 70_000 + "[" * 65 + "]" * 65, limit=64) is True
    assert parsers.json_depth_exceeds(deep * 70_000 + "[[" + "[]" * 63 + "]]", limit=64) is False
    interleaved = "[[]" * 70 + "]" * 70  # 71 deep, no run of "[" longer than 2: found by measuring the runs
    assert parsers.json_depth_exceeds(interleaved, limit=71) is False
    assert parsers.json_depth_exceeds(interleaved, limit=70) is True


def test_the_check_never_misses_what_the_decoder_would_read():
    """Random texts of brackets, quotes and escapes: whenever the characters the decoder reads (up to a backslash
    outside a string, where it stops) nest deeper than the limit, the check says so."""
    rng = random.Random(13)
    for _ in range(20_000):
        text = "".join(rng.choice('[[]]{}"\\a') for _ in range(rng.randint(0, 40)))
        limit = rng.randint(0, 6)
        if _read_depth(text) > limit:
            assert parsers.json_depth_exceeds(text, limit=limit), (text, limit)


def _read_depth(text: str) -> int:
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char == "\\":
            break
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def test_the_drf_parser_refuses_depth_with_a_parse_error():
    with pytest.raises(ParseError) as raised:
        parsers.JSONParser().parse(io.BytesIO(b"[" * 10_000))
    assert "deep" in str(raised.value.detail)
    assert parsers.JSONParser().parse(io.BytesIO(b'{"a": [1]}')) == {"a": [1]}


def test_the_project_parser_is_the_configured_json_parser(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"][0] == "majed_vanna.api.parsers.JSONParser"
    assert "rest_framework.parsers.JSONParser" not in settings.REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]


def test_a_recursion_error_is_a_400_not_a_500():
    """The last line of defence: whatever decodes too deeply, the answer is 400 BAD_REQUEST."""
    status, body, _ = envelope_for_exception(RecursionError("maximum recursion depth exceeded"))
    assert status == 400 and body["error"]["code"] == "BAD_REQUEST"
    assert "Recursion" not in body["error"]["message"]
