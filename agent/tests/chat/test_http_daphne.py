"""``agent/chat_sse`` and ``agent/chat_poll`` against a real daphne process over real HTTP (issue 15, "Done when").

One daphne process serves the whole module (CI time): its own database (a SQLite file, or a fresh PostgreSQL
database on the PostgreSQL run), set up as an operator would (``migrate``, ``seed_demo``: the admin and the demo
SQLite data source); its users and integration clients are made over HTTP. Its LLM is the scripted fake server
(``majed_vanna.tests.fake_llm``) on 127.0.0.1, reached by the real OpenAI and Anthropic SDK clients; the wire
format is switched with ``PUT config`` as an admin would. The heartbeat is shortened to ``HEARTBEAT`` seconds so
that a slow model shows it.
"""

import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from contextlib import closing
from dataclasses import dataclass, field

import httpx
import psycopg
import pytest
from django.conf import settings

from majed_vanna.tests.fake_llm import FakeLLMServer, anthropic_stream, openai_stream
from majed_vanna.tests.servers import BASE_DIR, closed_port, server_env, start_daphne

pytestmark = pytest.mark.slow

PASSWORD = "Chat-daphne-Passw0rd-91"
ADMIN = "admin@example.com"  # seed_demo's admin (its password: MV_ADMIN_PASSWORD)
HEARTBEAT = 0.5
WIRES = ("openai", "anthropic")
SSE, POLL = "/api/v1/agent/chat_sse", "/api/v1/agent/chat_poll"
COUNT_SQL = "SELECT COUNT(*) AS n FROM customers"  # as the gate normalises it (lineage.sql)
SETUP = (
    "import django; django.setup(); from django.core.management import call_command; "
    "call_command('migrate', '--noinput', verbosity=0); call_command('seed_demo')"
)


# --- the server and its callers
def _server_database(data_dir):
    """A database of the server's own: (DATABASE_URL, drop). PostgreSQL on the PostgreSQL run, else SQLite."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        return f"sqlite:///{data_dir / 'db.sqlite3'}", lambda: None
    conninfo = {"host": db.get("HOST") or "localhost", "port": db.get("PORT") or 5432, "user": db.get("USER")}
    if db.get("PASSWORD"):
        conninfo["password"] = db["PASSWORD"]
    name = f"{db['NAME']}_chatd_{os.getpid()}"[:63]
    maintenance = psycopg.conninfo.make_conninfo(**conninfo, dbname="postgres")

    def drop():
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    drop()
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db.get('USER')}{password}@{conninfo['host']}:{conninfo['port']}/{name}", drop


@dataclass
class Site:
    server: object  # majed_vanna.tests.servers.ServerProcess
    fake: FakeLLMServer
    http: httpx.Client
    data_dir: object
    headers: dict = field(default_factory=dict)  # caller name -> auth headers
    ids: dict = field(default_factory=dict)  # caller name -> user id / client id
    llm: tuple = ("openai", "")

    def login(self, name: str, username: str) -> None:
        response = self.http.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        self.headers[name] = {"Authorization": f"Bearer {data['access_token']}"}
        self.ids[name] = data["user"]["id"]

    def add_user(self, name: str) -> None:
        username = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
        body = {"username": username, "password": PASSWORD, "role": "normal", "must_change_password": False}
        response = self.http.post("/api/v1/users", json=body, headers=self.headers["admin"])
        assert response.status_code == 201, response.text
        self.login(name, username)

    def add_client(self, name: str, permissions: list[str], rate_limit: str | None = None) -> None:
        body = {"client_name": name, "permissions": permissions, **({"rate_limit": rate_limit} if rate_limit else {})}
        response = self.http.post("/api/v1/integrations/clients", json=body, headers=self.headers["admin"])
        assert response.status_code == 201, response.text
        data = response.json()["data"]
        self.headers[name], self.ids[name] = {"X-API-Key": data["api_key"]}, data["client_id"]

    def use_llm(self, provider: str, base_url: str | None = None) -> None:
        """Point the server's runtime configuration at the fake LLM (or ``base_url``) with ``provider``'s wire."""
        if base_url is None:
            base_url = self.fake.url + "/v1" if provider == "openai" else self.fake.url
        if self.llm == (provider, base_url):
            return
        body = {"llm_provider": provider, "llm_base_url": base_url}
        response = self.http.put("/api/v1/config", json=body, headers=self.headers["admin"])
        assert response.status_code == 200, response.text
        self.llm = (provider, base_url)

    def get(self, path: str, caller: str) -> httpx.Response:
        return self.http.get(path, headers=self.headers[caller])


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    fake = FakeLLMServer().start()
    data_dir = tmp_path_factory.mktemp("chat-daphne")
    database_url, drop_database = _server_database(data_dir)
    env = {
        "DATABASE_URL": database_url,
        "CACHE_KEY_PREFIX": f"{settings.CACHE_KEY_PREFIX}_chatd{os.getpid()}",
        "MV_ADMIN_PASSWORD": PASSWORD,
        "LLM_PROVIDER": "openai",
        "LLM_MODEL": "fake-model-1",
        "LLM_BASE_URL": fake.url + "/v1",
        "LLM_API_KEY": fake.api_key,
        "LLM_MAX_RETRIES": "1",
        "LLM_RETRY_BASE_DELAY": "0.01",
        "LLM_RETRY_MAX_DELAY": "0.05",
        "LLM_TIMEOUT_SECONDS": "10",
        "AGENT_SSE_HEARTBEAT_SECONDS": str(HEARTBEAT),
    }
    server, setup = None, None
    try:
        # The migrations and the seed run while daphne starts (both mostly import Django; nothing reaches the
        # database before the first request, which waits for the setup).
        setup = subprocess.Popen(
            [sys.executable, "-c", SETUP],
            cwd=BASE_DIR,
            env=server_env(data_dir=data_dir, settings_module="majed_vanna.settings.test", extra=env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        server = start_daphne(data_dir=data_dir, env=env, timeout=60)
        output, _ = setup.communicate(timeout=300)
        assert setup.returncode == 0, output[-3000:]
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            site = Site(server=server, fake=fake, http=http, data_dir=data_dir, llm=("openai", fake.url + "/v1"))
            site.login("admin", ADMIN)
            site.add_user("alice")
            site.add_user("bob")
            site.add_client("chat-client", ["use_chat"])
            site.add_client("config-client", ["read_config"])
            site.add_client("throttled-client", ["use_chat"], rate_limit="1/hour")
            yield site
    finally:
        if setup is not None and setup.poll() is None:
            setup.kill()
        if server is not None:
            server.stop()
        fake.stop()
        drop_database()


@pytest.fixture(autouse=True)
def scripted(site):
    """Each test starts with a quiet fake LLM and must use every reply it scripts (no leftover for the next)."""
    site.fake.delay = 0.0
    yield site.fake
    leftover = len(site.fake._replies)  # the fake has no public view of its queue
    site.fake._replies.clear()
    assert leftover == 0, f"{leftover} scripted LLM repl(ies) were never requested"


@pytest.fixture(scope="module", params=WIRES)
def _wire_param(request):
    return request.param  # module scope: pytest runs each wire's tests together (fewer PUT config)


@pytest.fixture
def wire(site, _wire_param):
    site.use_llm(_wire_param)
    return _wire_param


@pytest.fixture
def openai_wire(site):
    site.use_llm("openai")
    return "openai"


# --- scripts and transports
def reply(site: Site, wire: str, *, texts=(), sql: str | None = None, usage=(20, 5), interval=0.0, delay=0.0):
    """Script the fake LLM's next reply: streamed ``texts`` and/or a ``run_sql`` call, in ``wire``'s format."""
    calls = [("run_sql", {"sql": sql})] if sql is not None else []
    build = openai_stream if wire == "openai" else anthropic_stream
    site.fake.enqueue(events=build(list(texts), tool_calls=calls, usage=usage), interval=interval, delay=delay)


@dataclass
class Stream:
    status: int
    headers: httpx.Headers
    events: list = field(default_factory=list)  # (arrival time, event dict)
    comments: list = field(default_factory=list)  # (arrival time, comment line)
    body: bytes = b""

    @property
    def types(self) -> list[str]:
        return [event["type"] for _, event in self.events]

    def of(self, kind: str) -> list[dict]:
        return [event for _, event in self.events if event["type"] == kind]


def sse(site: Site, caller: str | None, body: dict, headers: dict | None = None) -> Stream:
    """POST chat_sse and read it to the end: each block must be one ``data:`` JSON line or one comment."""
    headers = {**(site.headers[caller] if caller else {}), **(headers or {})}
    with site.http.stream("POST", SSE, json=body, headers=headers) as response:
        stream = Stream(response.status_code, response.headers)
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            stream.body = response.read()
            return stream
        block: list[str] = []
        for line in response.iter_lines():
            if line:
                block.append(line)
                continue
            if block:
                _take(stream, block)
                block = []
        assert not block, f"an unterminated SSE block: {block}"
    return stream


def _take(stream: Stream, block: list[str]) -> None:
    assert len(block) == 1, f"one line per event expected, got {block}"
    line, now = block[0], time.monotonic()
    if line.startswith(":"):
        stream.comments.append((now, line))
        return
    assert line.startswith("data: "), line
    event = json.loads(line[len("data: ") :])
    assert isinstance(event, dict) and "type" in event, line
    stream.events.append((now, event))


def poll(site: Site, caller: str, body: dict) -> httpx.Response:
    return site.http.post(POLL, json=body, headers=site.headers[caller])


def answer_events(site: Site, transport: str, caller: str, body: dict) -> tuple[list[dict], dict]:
    """The run's events (``done`` last) and ``done`` itself, through either transport."""
    if transport == "sse":
        stream = sse(site, caller, body)
        assert stream.status == 200, stream.body
        return [event for _, event in stream.events], stream.events[-1][1]
    response = poll(site, caller, body)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    done = {"type": "done", **{k: data[k] for k in ("conversation_id", "message_id", "tools_used", "lineage")}}
    return [*data["events"], done], done


def demo_count(site: Site, table: str) -> int:
    with closing(sqlite3.connect(f"file:{site.data_dir / 'demo.sqlite3'}?mode=ro", uri=True)) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def stored_messages(site: Site, caller: str, conversation_id: str) -> list[dict]:
    response = site.get(f"/api/v1/agent/conversations/{conversation_id}/messages", caller)
    assert response.status_code == 200, response.text
    return response.json()["data"]["messages"]


# --- the answer: tool call -> sql -> table -> streamed text -> done with lineage
def test_sse_streams_a_tool_call_answer_with_lineage(site, wire):
    reply(site, wire, sql=COUNT_SQL, usage=(30, 8))
    reply(site, wire, texts=["There are ", "many ", "customers ", "in the demo."], usage=(50, 9), interval=0.15)
    stream = sse(site, "alice", {"message": "How many customers are there?"})

    assert stream.status == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert stream.headers["cache-control"] == "no-cache" and stream.headers["x-accel-buffering"] == "no"
    assert stream.types == ["tool_start", "sql", "table", "tool_end", "text", "text", "text", "text", "done"]
    assert stream.of("sql")[0]["sql"] == COUNT_SQL
    table = stream.of("table")[0]
    assert (table["columns"], table["rows"], table["row_count"]) == (["n"], [[demo_count(site, "customers")]], 1)
    assert "".join(e["content"] for e in stream.of("text")) == "There are many customers in the demo."
    # streamed as the model sends them: the first delta reached the client before the model sent its last one
    first_text = next(at for at, event in stream.events if event["type"] == "text")
    assert first_text < site.fake.sent[-1], "the text deltas were held back until the model finished"

    done = stream.of("done")[0]
    lineage = done["lineage"]
    assert done["tools_used"] == ["run_sql"] and uuid.UUID(done["conversation_id"]) and uuid.UUID(done["message_id"])
    assert (lineage["sql"], lineage["tables"], lineage["row_count"], lineage["retries"]) == (
        COUNT_SQL,
        ["customers"],
        1,
        0,
    )
    assert (lineage["provider"], lineage["model"]) == (wire, "fake-model-1")
    assert lineage["confidence"]["tier"] == "medium" and lineage["confidence"]["reasons"]
    assert lineage["timings_ms"]["total"] >= lineage["timings_ms"]["llm"] > 0 and lineage["timings_ms"]["sql"] > 0
    assert lineage["usage"]["total_tokens"] == 97
    # the stored answer is the one that was streamed
    stored = stored_messages(site, "alice", done["conversation_id"])
    assert [m["role"] for m in stored] == ["user", "assistant"]
    assert stored[1]["id"] == done["message_id"] and stored[1]["content"] == "There are many customers in the demo."
    assert stored[1]["lineage"]["sql"] == COUNT_SQL


def test_poll_answers_the_same_run_at_once(site, wire):
    reply(site, wire, sql="SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY status")
    reply(site, wire, texts=["Orders by ", "status."])
    response = poll(site, "alice", {"message": "Orders per status?"})

    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    data = response.json()["data"]
    types = [event["type"] for event in data["events"]]
    assert types[:3] == ["tool_start", "sql", "table"] and types[-2:] == ["text", "text"]
    assert "done" not in types and data["response"] == "Orders by status."
    table = next(event for event in data["events"] if event["type"] == "table")
    assert {row[0] for row in table["rows"]} >= {"pending", "shipped", "delivered", "cancelled"}
    assert (data["lineage"]["tables"], data["lineage"]["provider"]) == (["orders"], wire)
    assert data["lineage"]["confidence"]["tier"] == "medium"
    assert data["tools_used"] == ["run_sql"] and data["metadata"]["mode"] == "llm"
    assert stored_messages(site, "alice", data["conversation_id"])[1]["id"] == data["message_id"]


# --- corrections
@pytest.mark.parametrize("transport", ["sse", "poll"])
def test_refused_sql_is_corrected_on_the_second_try(site, wire, transport):
    before = demo_count(site, "customers")
    reply(site, wire, sql="DELETE FROM customers")
    reply(site, wire, sql=COUNT_SQL)
    reply(site, wire, texts=["Counted."])
    events, done = answer_events(site, transport, "alice", {"message": "Remove, no, count the customers"})

    ends = [event for event in events if event["type"] == "tool_end"]
    assert [end["ok"] for end in ends] == [False, True]
    assert ends[0]["error"]["code"] == "SQL_REFUSED" and ends[0]["error"]["details"]["rule"]
    assert [event["type"] for event in events].count("table") == 1 and "error" not in [e["type"] for e in events]
    lineage = done["lineage"]
    assert (lineage["retries"], lineage["sql"], lineage["confidence"]["tier"]) == (1, COUNT_SQL, "low")
    assert demo_count(site, "customers") == before
    # the model was told why: the refusal and its rule went back with the second request
    assert "SQL_REFUSED" in json.dumps(site.fake.requests[-2].body)


@pytest.mark.parametrize("transport", ["sse", "poll"])
def test_model_that_never_writes_valid_sql_gives_up(site, wire, transport):
    for statement in ("DELETE FROM orders", "DROP TABLE orders", "UPDATE orders SET total = 0"):
        reply(site, wire, sql=statement)
    events, done = answer_events(site, transport, "alice", {"message": "Clean up the orders"})

    assert [event["type"] for event in events][-2:] == ["error", "done"]
    assert events[-2]["error"]["code"] == "AGENT_GAVE_UP"
    assert [event["ok"] for event in events if event["type"] == "tool_end"] == [False, False, False]
    assert done["lineage"]["retries"] == 3 and done["lineage"]["confidence"]["tier"] == "low"
    assert demo_count(site, "orders") > 0


# --- the stream's lifetime
def test_closing_the_stream_cancels_the_llm_request_and_marks_the_answer_cancelled(site, openai_wire):
    reply(site, openai_wire, sql=COUNT_SQL)
    reply(site, openai_wire, texts=[f"word{i} " for i in range(40)], interval=0.25)
    disconnects, sent = len(site.fake.disconnects), len(site.fake.sent)
    with site.http.stream("POST", SSE, json={"message": "Tell me slowly"}, headers=site.headers["alice"]) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: ") and json.loads(line[6:])["type"] == "text":
                break
        closed_at = time.monotonic()
    deadline = closed_at + 5
    while len(site.fake.disconnects) == disconnects and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(site.fake.disconnects) > disconnects, "the LLM request was not cancelled"
    assert site.fake.disconnects[-1] - closed_at < 1.0
    time.sleep(0.5)  # two more intervals: a model still streaming would have sent more
    after_close = [at for at in site.fake.sent[sent:] if at > closed_at]
    assert len(after_close) <= 4, "the model kept streaming to nobody"  # 1 s at one word per 0.25 s, then none

    conversation = site.get("/api/v1/agent/conversations", "alice").json()["data"]["conversations"][0]
    stored: list[dict] = []
    while time.monotonic() < deadline and len(stored) < 2:
        stored = stored_messages(site, "alice", conversation["id"])
        time.sleep(0.05)
    assert [m["role"] for m in stored] == ["user", "assistant"] and stored[0]["content"] == "Tell me slowly"
    last = stored[1]["events"][-1]
    assert (last["type"], last["error"]["code"]) == ("error", "CANCELLED")
    assert stored[1]["content"].startswith("word0 ")


def test_heartbeat_comment_while_the_model_is_slow(site, openai_wire):
    reply(site, openai_wire, texts=["Hello."], delay=3 * HEARTBEAT + 0.3)
    stream = sse(site, "alice", {"message": "Say hello"})

    assert stream.types == ["text", "done"]
    beats = [at for at, line in stream.comments if line == ": keep-alive"]
    assert len(beats) >= 2, stream.comments
    assert beats[0] < stream.events[0][0], "the keep-alive should come while the model is silent"


# --- before the stream: JSON envelopes, never an event stream
@pytest.mark.parametrize("path", [SSE, POLL])
def test_errors_before_the_stream_are_json_envelopes(site, path):
    cases = [
        (None, {"message": "hi"}, 401, "AUTHENTICATION_FAILED"),
        ("config-client", {"message": "hi"}, 403, "PERMISSION_DENIED"),
        ("alice", {"message": "x" * 4001}, 422, "VALIDATION_ERROR"),
        ("alice", {"message": "hi", "conversation_id": str(uuid.uuid4())}, 404, "RESOURCE_NOT_FOUND"),
        ("alice", {"message": "hi", "data_source": "no-such-source"}, 404, "RESOURCE_NOT_FOUND"),
    ]
    for caller, body, status, code in cases:
        response = site.http.post(path, json=body, headers=site.headers[caller] if caller else {})
        assert response.headers["content-type"] == "application/json", (body, response.headers)
        error = response.json()["error"]
        assert (response.status_code, error["code"]) == (status, code), response.text
        if status == 422:
            assert "4,000" in error["details"]["message"][0] or "4000" in error["details"]["message"][0], error


def test_throttled_chat_is_429_with_retry_after(site, openai_wire):
    reply(site, openai_wire, texts=["Hi."])
    first = poll(site, "throttled-client", {"message": "Hello"})
    assert first.status_code == 200, first.text
    assert first.headers["X-RateLimit-Limit"] == "1" and first.headers["X-RateLimit-Remaining"] == "0"

    stream = sse(site, "throttled-client", {"message": "Hello again"})
    assert stream.status == 429 and stream.headers["content-type"] == "application/json"
    assert json.loads(stream.body)["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert int(stream.headers["Retry-After"]) > 0


# --- whose conversation
def test_another_user_can_neither_read_continue_nor_delete_a_conversation(site, openai_wire):
    reply(site, openai_wire, texts=["Private answer."])
    _, done = answer_events(site, "poll", "alice", {"message": "Alice's question"})
    mine = done["conversation_id"]

    for response in (
        site.get(f"/api/v1/agent/conversations/{mine}", "bob"),
        site.get(f"/api/v1/agent/conversations/{mine}/messages", "bob"),
        site.http.delete(f"/api/v1/agent/conversations/{mine}", headers=site.headers["bob"]),
        poll(site, "bob", {"message": "continue", "conversation_id": mine}),
        site.http.post(SSE, json={"message": "continue", "conversation_id": mine}, headers=site.headers["bob"]),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    listed = site.get("/api/v1/agent/conversations", "bob").json()["data"]["conversations"]
    assert mine not in [c["id"] for c in listed]
    # Alice's conversation is whole: nothing was added, nothing deleted
    assert [m["content"] for m in stored_messages(site, "alice", mine)] == ["Alice's question", "Private answer."]

    reply(site, openai_wire, texts=["Still yours."])
    _, again = answer_events(site, "sse", "alice", {"message": "And again", "conversation_id": mine})
    assert again["conversation_id"] == mine
    assert "Alice's question" in json.dumps(site.fake.requests[-1].body)  # the history went to the model


def test_integration_client_with_use_chat_chats_and_one_without_is_refused(site, openai_wire):
    reply(site, openai_wire, sql=COUNT_SQL)
    reply(site, openai_wire, texts=["Counted for the client."])
    events, done = answer_events(site, "sse", "chat-client", {"message": "How many customers?"})
    assert [e["type"] for e in events][:3] == ["tool_start", "sql", "table"] and done["lineage"]["row_count"] == 1
    owned = site.get("/api/v1/agent/conversations", "chat-client").json()["data"]["conversations"]
    assert done["conversation_id"] in [c["id"] for c in owned]

    audit_path = f"/api/v1/audit-logs?action=permission.denied&user_id={site.ids['config-client']}&resource={SSE}"
    before = site.get(audit_path, "admin").json()["data"]["total"]
    refused = site.http.post(SSE, json={"message": "hi"}, headers=site.headers["config-client"])
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "PERMISSION_DENIED")
    audit = site.get(audit_path, "admin").json()["data"]
    assert audit["total"] == before + 1, audit
    row = audit["logs"][0]
    assert (row["success"], row["details"]["permission"]) == (False, "use_chat")


# --- the provider down
def test_provider_errors_end_in_llm_unavailable(site, openai_wire):
    site.fake.enqueue(status=500, json={"error": {"message": "boom"}})
    site.fake.enqueue(status=500, json={"error": {"message": "boom"}})  # LLM_MAX_RETRIES=1
    events, done = answer_events(site, "poll", "alice", {"message": "Anything?"})
    assert [e["type"] for e in events] == ["error", "done"]
    assert events[0]["error"]["code"] == "LLM_UNAVAILABLE" and "boom" not in json.dumps(events)
    assert done["lineage"]["confidence"]["tier"] == "low"


def test_unreachable_provider_ends_in_llm_unavailable_over_sse(site):
    site.use_llm("openai", f"http://127.0.0.1:{closed_port()}/v1")
    try:
        stream = sse(site, "alice", {"message": "Anything?"})
    finally:
        site.use_llm("openai")
    assert stream.status == 200 and stream.types == ["error", "done"]
    assert stream.of("error")[0]["error"]["code"] == "LLM_UNAVAILABLE"
    stored = stored_messages(site, "alice", stream.of("done")[0]["conversation_id"])
    assert stored[1]["events"][-1]["error"]["code"] == "LLM_UNAVAILABLE"
