"""The agent's routes, declared for the shared endpoint checks (``majed_vanna/tests/test_endpoints.py``).

Data sources: callers with ``use_chat`` list and read the sources their role may use (a source for admins
only is hidden, 404, from a normal user); ``system_admin`` writes and tests them.

Conversations: callers with ``use_chat`` read and delete their own; an admin's conversation is hidden (404) from
a normal user and a superuser; ``system_admin`` sees every one.

Feedback: callers with ``use_chat`` rate their own answers; ``admin_tools`` lists the review queue and approves or
rejects. Tools registry: ``admin_tools`` reads the registry and the call log; ``system_admin`` changes a tool.
Memory: callers with ``use_chat`` read approved global memories and their own private ones; ``admin_tools``
writes. Another user's private memory is hidden (404) from everyone, a superuser included.
Semantic layer: callers with ``use_chat`` read; ``admin_tools`` (admins and superusers) writes. A table whose
``visible_to`` leaves out the normal role is hidden (404) from a normal user, with its columns and metrics.
"""

from majed_vanna.tests.endpoint_cases import Endpoint, Hidden

SOURCES = "/api/v1/agent/data-sources"
SOURCE = SOURCES + "/{id}"
CONVERSATIONS = "/api/v1/agent/conversations"
CONVERSATION = CONVERSATIONS + "/{id}"
ADMIN = {"permission": "system_admin", "denied": ("normal", "superuser")}
CHAT = {"permission": "use_chat"}


def _source(**fields) -> dict:
    from pathlib import Path

    from django.conf import settings

    from agent.tests.factories import make_source, sqlite_file

    path = sqlite_file(Path(settings.MV_ALLOWED_PATH_ROOTS[0]) / "declared.sqlite3")
    source = make_source(name=f"declared-{fields.get('roles', ['all'])[0]}", url=f"sqlite:///{path}", **fields)
    # A stored schema: the checks read it without introspecting (that is agent.sql's, tested there).
    source.schema_snapshot = {"tables": []}
    source.save(update_fields=["schema_snapshot"])
    return {"id": source.pk}


def a_source() -> dict:
    return _source()


def an_admins_only_source() -> dict:
    return _source(roles=["admin"])


HIDDEN = (Hidden("normal", an_admins_only_source, "admins-only source from normal"),)


def a_conversation() -> dict:
    """A conversation of a fresh admin (the checks' allowed caller is another admin: it sees every one)."""
    from agent.services.conversations import conversation_start, message_append
    from majed_vanna.tests.endpoint_cases import make_user

    owner = make_user("admin")
    conversation = conversation_start(principal=owner, title="Declared")
    message_append(principal=owner, conversation=conversation, role="user", content="How many orders?")
    return {"id": conversation.pk}


CONVERSATION_HIDDEN = (
    Hidden("normal", a_conversation, "another user's conversation from normal"),
    Hidden("superuser", a_conversation, "another user's conversation from superuser"),
)

TOOLS = {"permission": "admin_tools", "denied": ("normal",), "users_only": True}
EVALS = "/api/v1/agent/evals"
EVAL = EVALS + "/{id}"
RUN = EVALS + "/runs/{id}"


def an_eval_set() -> dict:
    from agent.models import EvalCase, EvalSet

    source_id = _source()["id"]
    eval_set = EvalSet.objects.create(name=f"declared-{EvalSet.objects.count()}", data_source_id=source_id)
    EvalCase.objects.create(eval_set=eval_set, question="How many?", reference_sql="SELECT 1")
    return {"id": eval_set.pk}


def an_eval_case() -> dict:
    from agent.models import EvalCase

    eval_set = an_eval_set()
    return {"id": eval_set["id"], "case_id": EvalCase.objects.get(eval_set_id=eval_set["id"]).pk}


def an_eval_run() -> dict:
    from agent.models import EvalRun, EvalRunStatus

    eval_set = an_eval_set()
    run = EvalRun.objects.create(eval_set_id=eval_set["id"], status=EvalRunStatus.SUCCEEDED, summary={})
    return {"id": run.pk}


EVAL_ENDPOINTS = [
    Endpoint("GET", EVALS, **TOOLS, results_key="evals"),
    Endpoint("POST", EVALS, **TOOLS, bad_body={"name": ""}),
    Endpoint("POST", EVALS + "/import", **TOOLS, bad_body={"name": "x", "data_source": "d", "cases": []}),
    Endpoint("GET", EVAL, **TOOLS, target=an_eval_set),
    Endpoint("PATCH", EVAL, **TOOLS, target=an_eval_set, bad_body={"name": ""}),
    Endpoint("DELETE", EVAL, **TOOLS, target=an_eval_set),
    Endpoint("GET", EVAL + "/cases", **TOOLS, target=an_eval_set, results_key="cases"),
    Endpoint("POST", EVAL + "/cases", **TOOLS, target=an_eval_set, bad_body={"question": ""}),
    Endpoint("GET", EVAL + "/cases/{case_id}", **TOOLS, target=an_eval_case),
    Endpoint("PATCH", EVAL + "/cases/{case_id}", **TOOLS, target=an_eval_case, bad_body={"question": ""}),
    Endpoint("DELETE", EVAL + "/cases/{case_id}", **TOOLS, target=an_eval_case),
    Endpoint("POST", EVAL + "/run", **TOOLS, target=an_eval_set),
    Endpoint("GET", EVAL + "/runs", **TOOLS, target=an_eval_set, results_key="runs"),
    Endpoint("GET", EVAL + "/export", **TOOLS, target=an_eval_set),
    Endpoint("GET", RUN, **TOOLS, target=an_eval_run),
    Endpoint("POST", RUN + "/baseline", **TOOLS, target=an_eval_run),
    Endpoint("GET", RUN + "/report", **TOOLS, target=an_eval_run, ok=False, notes="an HTML page, not JSON"),
]

REVIEW = {"permission": "admin_tools", "denied": ("normal",)}
FEEDBACK = "/api/v1/agent/feedback"
TOOLS_REGISTRY = "/api/v1/agent/tools/registry"


def a_feedback() -> dict:
    """A pending thumbs up of a fresh normal user on one of their answers."""
    from agent.services.conversations import conversation_start, message_append
    from agent.services.feedback import feedback_create
    from majed_vanna.tests.endpoint_cases import make_user

    owner = make_user("normal")
    conversation = conversation_start(principal=owner, title="Declared")
    message_append(principal=owner, conversation=conversation, role="user", content="How many orders?")
    answer = message_append(
        principal=owner,
        conversation=conversation,
        role="assistant",
        content="42",
        lineage={"sql": "SELECT count(*) FROM orders"},
    )
    feedback, _created = feedback_create(principal=owner, message_id=answer.pk, rating="up")
    return {"id": feedback.pk}


def a_tool() -> dict:
    return {"tool_id": "run_sql"}


SEMANTIC = "/api/v1/agent/semantic"
TOOLS_ADMIN = {"permission": "admin_tools", "denied": ("normal",)}


def _semantic_table(visible_to=None):
    """A scanned-looking table (with one column) of a declared source, made directly: the scan is tested in
    agent/tests/semantic."""
    from agent.models import SemanticColumn, SemanticTable
    from agent.models.sources import default_roles

    source_id = _source(roles=["admin", "superuser", "normal"])["id"]
    table = SemanticTable.objects.create(
        data_source_id=source_id, name="orders", visible_to=visible_to or default_roles()
    )
    column = SemanticColumn.objects.create(data_source_id=source_id, table=table, name="status", data_type="TEXT")
    return table, column


def a_semantic_table() -> dict:
    return {"id": _semantic_table()[0].pk}


def a_semantic_column() -> dict:
    return {"id": _semantic_table()[1].pk}


def _metric(visible_to=None):
    from agent.models import SemanticMetric

    table, _column = _semantic_table(visible_to)
    return SemanticMetric.objects.create(
        data_source_id=table.data_source_id, name="order count", expression="COUNT(*)", table="orders"
    )


def a_semantic_metric() -> dict:
    return {"id": _metric().pk}


def a_semantic_term() -> dict:
    from agent.models import SemanticTerm

    source_id = _source()["id"]
    return {"id": SemanticTerm.objects.create(data_source_id=source_id, term="churn", definition="Lost customers").pk}


def a_semantic_relationship() -> dict:
    from agent.models import SemanticRelationship

    table, _column = _semantic_table()
    return {
        "id": SemanticRelationship.objects.create(
            data_source_id=table.data_source_id,
            from_table="orders",
            from_columns=["status"],
            to_table="orders",
            to_columns=["status"],
            key="orders(status)->orders(status)",
        ).pk
    }


def _staff_only(kind: str):
    def target() -> dict:
        if kind == "metric":
            return {"id": _metric(visible_to=["admin", "superuser"]).pk}
        table, column = _semantic_table(visible_to=["admin", "superuser"])
        return {"id": (table if kind == "table" else column).pk}

    return (Hidden("normal", target, f"a staff-only table's {kind} from normal"),)


def _semantic(kind: str, plural: str, target, *, create_body=None, patch_body=None, hidden=()) -> list[Endpoint]:
    collection, item = f"{SEMANTIC}/{plural}", f"{SEMANTIC}/{plural}/{{id}}"
    declared = [
        Endpoint(
            "GET",
            collection,
            **CHAT,
            results_key=plural,
            bad_queries=({"data_source": "not-a-uuid"}, {"ordering": "bogus"}),
        ),
        Endpoint("GET", item, **CHAT, target=target, hidden=hidden),
        Endpoint("PATCH", item, **TOOLS_ADMIN, target=target, bad_body=patch_body or {"description": 5 * 1000 * "x"}),
        Endpoint("DELETE", item, **TOOLS_ADMIN, target=target),
    ]
    if create_body is not None:
        declared.append(Endpoint("POST", collection, **TOOLS_ADMIN, bad_body=create_body))
    return declared


MEMORY = "/api/v1/agent/memory"


def a_memory(**fields) -> dict:
    """An approved global text memory (every use_chat caller reads it; no gate: no data source needed)."""
    from agent.models import Memory

    fields = {"kind": "text", "content": "Orders ship within two days.", "status": "approved", **fields}
    return {"id": Memory.objects.create(**fields).pk}


def a_draft_memory() -> dict:
    return a_memory(status="draft")


def a_private_memory() -> dict:
    """A private memory of a fresh admin: hidden from everyone else, admins and superusers included."""
    from majed_vanna.tests.endpoint_cases import make_user

    return a_memory(scope="private", owner=make_user("admin"))


MEMORY_HIDDEN = (
    Hidden("normal", a_private_memory, "another user's private memory from normal"),
    Hidden("superuser", a_private_memory, "another user's private memory from superuser"),
)

ENDPOINTS = [
    *EVAL_ENDPOINTS,
    *_semantic("table", "tables", a_semantic_table, hidden=_staff_only("table"), patch_body={"visible_to": ["x"]}),
    *_semantic("column", "columns", a_semantic_column, hidden=_staff_only("column")),
    *_semantic(
        "metric",
        "metrics",
        a_semantic_metric,
        hidden=_staff_only("metric"),
        create_body={"name": "x", "expression": "SUM(total)", "table": "orders", "data_source": "nope"},
        patch_body={"filters": "status = 1"},
    ),
    *_semantic("term", "terms", a_semantic_term, create_body={"term": "churn"}, patch_body={"definition": ""}),
    *_semantic(
        "relationship",
        "relationships",
        a_semantic_relationship,
        create_body={"from_table": "orders", "from_columns": [], "to_table": "orders", "to_columns": ["id"]},
    ),
    Endpoint(
        "GET",
        SEMANTIC + "/search",
        **CHAT,
        results_key="results",
        bad_queries=({"q": "x" * 201}, {"kind": "view"}, {"data_source": "nope"}),
    ),
    Endpoint("POST", SEMANTIC + "/sync", **TOOLS_ADMIN, bad_body={"data_source": "not-a-uuid"}),
    Endpoint("POST", "/api/v1/agent/chat_sse", **CHAT, bad_body={"message": ""}),
    Endpoint("POST", "/api/v1/agent/chat_poll", **CHAT, bad_body={"message": "x" * 4001}),
    Endpoint("GET", "/api/v1/agent/tools", **CHAT),
    Endpoint(
        "GET",
        SOURCES,
        **CHAT,
        results_key="data_sources",
        bad_queries=({"engine": "oracle"}, {"enabled": "maybe"}, {"ordering": "bogus"}),
    ),
    Endpoint("POST", SOURCES, **ADMIN, bad_body={"name": "x", "url": "mysql://host/db"}),
    Endpoint("GET", SOURCE, **CHAT, target=a_source, hidden=HIDDEN),
    Endpoint("PUT", SOURCE, **ADMIN, target=a_source, bad_body={"name": "x"}),
    Endpoint("PATCH", SOURCE, **ADMIN, target=a_source, bad_body={"row_cap": 0}),
    Endpoint("DELETE", SOURCE, **ADMIN, target=a_source),
    Endpoint("POST", SOURCE + "/test", **ADMIN, target=a_source),
    Endpoint("GET", SOURCE + "/schema", **CHAT, target=a_source, hidden=HIDDEN),
    Endpoint(
        "GET",
        CONVERSATIONS,
        **CHAT,
        results_key="conversations",
        bad_queries=({"ordering": "bogus"}, {"data_source": "not-a-uuid"}, {"since": "yesterday"}),
    ),
    Endpoint("GET", CONVERSATION, **CHAT, target=a_conversation, hidden=CONVERSATION_HIDDEN),
    Endpoint("DELETE", CONVERSATION, **CHAT, target=a_conversation, hidden=CONVERSATION_HIDDEN),
    Endpoint(
        "GET",
        CONVERSATION + "/messages",
        **CHAT,
        target=a_conversation,
        hidden=CONVERSATION_HIDDEN,
        results_key="messages",
    ),
    Endpoint("POST", FEEDBACK, **CHAT, bad_body={"message_id": "not-a-uuid", "rating": "meh"}),
    Endpoint(
        "GET",
        FEEDBACK,
        **REVIEW,
        results_key="feedback",
        bad_queries=({"status": "bogus"}, {"rating": "meh"}, {"since": "yesterday"}, {"ordering": "bogus"}),
    ),
    Endpoint("POST", FEEDBACK + "/{id}/approve", **REVIEW, target=a_feedback, bad_body={"sql": ""}),
    Endpoint("POST", FEEDBACK + "/{id}/reject", **REVIEW, target=a_feedback, bad_body={"note": "x" * 3000}),
    Endpoint(
        "GET",
        MEMORY,
        **CHAT,
        results_key="memories",
        bad_queries=({"kind": "bogus"}, {"data_source": "not-a-uuid"}, {"flagged": "maybe"}, {"ordering": "bogus"}),
    ),
    Endpoint("POST", MEMORY, **REVIEW, bad_body={"kind": "bogus"}),
    Endpoint("GET", MEMORY + "/{id}", **CHAT, target=a_memory, hidden=MEMORY_HIDDEN),
    Endpoint("PUT", MEMORY + "/{id}", **REVIEW, target=a_memory, hidden=MEMORY_HIDDEN[1:], bad_body={"kind": "x"}),
    Endpoint("PATCH", MEMORY + "/{id}", **REVIEW, target=a_memory, hidden=MEMORY_HIDDEN[1:], bad_body={"tags": 1}),
    Endpoint("DELETE", MEMORY + "/{id}", **REVIEW, target=a_memory, hidden=MEMORY_HIDDEN[1:]),
    Endpoint("POST", MEMORY + "/search", **CHAT, bad_body={"query": "", "limit": 0}),
    Endpoint("GET", MEMORY + "/stats", **CHAT),
    Endpoint("GET", MEMORY + "/export", **CHAT),
    Endpoint("POST", MEMORY + "/import", **REVIEW, bad_body={"memories": [{"kind": "bogus"}]}),
    Endpoint("POST", MEMORY + "/{id}/approve", **REVIEW, target=a_draft_memory, hidden=MEMORY_HIDDEN[1:]),
    Endpoint("POST", MEMORY + "/{id}/retire", **REVIEW, target=a_memory, hidden=MEMORY_HIDDEN[1:]),
    Endpoint("GET", TOOLS_REGISTRY, **REVIEW, results_key="tools"),
    Endpoint("PATCH", TOOLS_REGISTRY + "/{tool_id}", **ADMIN, target=a_tool, bad_body={"roles": ["wizard"]}),
    Endpoint(
        "GET",
        "/api/v1/agent/tools/history",
        **REVIEW,
        results_key="calls",
        bad_queries=({"success": "maybe"}, {"since": "yesterday"}, {"conversation": "not-a-uuid"}),
    ),
]
