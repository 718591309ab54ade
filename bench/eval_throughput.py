"""Evaluation throughput: cases per second through the whole chat path with a 0 s fake LLM, in one process.

::

    .venv/bin/python bench/eval_throughput.py               # 1,000 cases, EVAL_CONCURRENCY 8
    .venv/bin/python bench/eval_throughput.py --cases 200 --concurrency 16

A scratch SQLite application database and the demo data source are built in a temporary directory. The fake
LLM (``majed_vanna.tests.fake_llm``, real HTTP on 127.0.0.1, OpenAI streaming wire format) answers like a
perfect model: the first call of a case asks ``run_sql`` with the case's reference SQL, the second answers in
one sentence. Each case is two LLM calls, the gate, a dry-run ``EXPLAIN``, the query, the reference query and the
comparison. It prints the wall time, cases per second, the accuracy (100 % with this fake: a check that the
comparison holds) and the goal (1,000 cases under a minute).
"""

import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BASE_DIR / "bench"]
sys.path.insert(0, str(BASE_DIR))

import argparse  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

DATA_DIR = tempfile.mkdtemp(prefix="mv-bench-evals-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "majed_vanna.settings.test")
os.environ["MV_DATA_DIR"] = DATA_DIR
os.environ["DATABASE_URL"] = f"sqlite:///{DATA_DIR}/app.sqlite3"
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from asgiref.sync import async_to_sync  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from majed_vanna.tests.fake_llm import FakeLLMServer, Reply, openai_stream  # noqa: E402


class PerfectModel(FakeLLMServer):
    """Asks for the reference SQL of the question it is given, then answers."""

    def __init__(self, answers: dict[str, str]):
        super().__init__()
        self.answers = answers

    def _default_reply(self, handler):
        body = self.requests[-1].body if self.requests else None
        messages = (body or {}).get("messages", []) if isinstance(body, dict) else []
        if messages and messages[-1].get("role") == "tool":
            return Reply(events=openai_stream(["Here is the answer."], usage=(50, 5)))
        question = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
        sql = self.answers.get(question, "SELECT 1")
        return Reply(events=openai_stream(tool_calls=[("run_sql", {"sql": sql})], usage=(100, 10)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--profile", action="store_true", help="cProfile the run (event loop in this thread)")
    args = parser.parse_args()
    settings.EVAL_CONCURRENCY = args.concurrency
    settings.MV_DATA_SOURCE_URL = f"sqlite:///{DATA_DIR}/demo.sqlite3"
    settings.MV_ALLOWED_PATH_ROOTS = [DATA_DIR]
    call_command("migrate", verbosity=0)

    from accounts.models import User
    from agent.evals.demo_set import CASES
    from agent.evals.runner import eval_run_execute
    from agent.models import EvalCase, EvalRun, EvalSet
    from agent.services.demo_data import demo_sqlite_install
    from config_api.services import config_update

    admin = User.objects.create_user(username="bench@example.com", password="a-long-password-1", role="admin")
    source = demo_sqlite_install(by="bench").source
    questions = {}
    eval_set = EvalSet.objects.create(name="throughput", data_source=source)
    rows = []
    for i in range(args.cases):
        question, sql = CASES[i % len(CASES)]
        question = f"{question} (#{i})"
        questions[question] = sql
        rows.append(EvalCase(eval_set=eval_set, question=question, reference_sql=sql, position=i))
    EvalCase.objects.bulk_create(rows)
    fake = PerfectModel(questions).start()
    config_update(
        actor=admin,
        changes={
            "llm_provider": "openai",
            "llm_model": "fake-model-1",
            "llm_base_url": fake.url + "/v1",
            "llm_api_key": fake.api_key,
            "agent_max_tool_iterations": 5,
        },
    )
    run = EvalRun.objects.create(eval_set=eval_set, total=args.cases, started_by_id=str(admin.pk))
    started = time.perf_counter()
    if args.profile:
        import asyncio
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        finished = profiler.runcall(asyncio.run, eval_run_execute(run.pk))
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    else:
        finished = async_to_sync(eval_run_execute)(run.pk)
    elapsed = time.perf_counter() - started
    fake.stop()
    summary = finished.summary
    print(f"cases: {summary['cases']}, concurrency: {args.concurrency}, LLM calls: {len(fake.requests)}")
    print(f"wall time: {elapsed:.1f} s, throughput: {summary['cases'] / elapsed:.1f} cases/s")
    print(f"execution accuracy: {summary['execution_accuracy']:.1%} (the perfect fake: expect 100%)")
    print(f"latency per case: mean {summary['latency_ms']['mean']} ms, p95 {summary['latency_ms']['p95']} ms")
    per_thousand = 1000 * elapsed / max(1, summary["cases"])
    print(f"1,000 cases take {per_thousand:.1f} s (goal: under 60 s) -> {'met' if per_thousand < 60 else 'NOT met'}")


if __name__ == "__main__":
    main()
