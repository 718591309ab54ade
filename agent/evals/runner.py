"""Running an evaluation set: every case asked through the agent's one path, compared with its reference.

``await eval_run_execute(run_id)`` (the Celery task and ``manage.py run_eval`` call it) claims a pending run,
asks its cases with at most ``EVAL_CONCURRENCY`` in flight (``agent.services.chat`` with ``persist=False``: the
same prompt, tools, gate and correction loop as a chat; nothing stored as a conversation), runs each reference
SQL through the same read-only path, compares the two results (``agent.evals.compare``) and stores one
``EvalResult`` per case as it finishes (progress: ``EvalRun.done``). A case that fails is a result with its error,
not a failed run; the run fails only when it cannot go on (its set or data source gone, the database down).
``on_progress(done, total)`` is called after each case (the command's progress bar).
"""

import asyncio
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.utils import timezone

from agent.engine import events
from agent.models import EvalCase, EvalResult, EvalRun, EvalRunStatus
from agent.services.chat import chat_prepare, chat_stream, orm
from agent.services.queries import data_source_query
from majed_vanna.exceptions import ApplicationError

from .compare import reference_orders, results_match
from .summary import run_diff, run_summary

logger = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 0.5


def _claim(run_id) -> tuple[EvalRun, list[EvalCase], object] | None:
    from accounts.selectors import user_by_id

    updated = EvalRun.objects.filter(pk=run_id, status=EvalRunStatus.PENDING).update(
        status=EvalRunStatus.RUNNING, started_at=timezone.now()
    )
    if not updated:
        return None
    run = EvalRun.objects.select_related("eval_set__data_source").get(pk=run_id)
    cases = list(run.eval_set.cases.all())
    principal = user_by_id(run.started_by_id)
    EvalRun.objects.filter(pk=run_id).update(total=len(cases))
    run.total = len(cases)
    return run, cases, principal


def _store(run_id, results: list[dict], done: int) -> None:
    EvalResult.objects.bulk_create([EvalResult(run_id=run_id, **r) for r in results], ignore_conflicts=True)
    EvalRun.objects.filter(pk=run_id).update(done=done)


def _finish(run_id, mode: str, provider: str, model: str) -> EvalRun:
    run = EvalRun.objects.select_related("eval_set").get(pk=run_id)
    results = list(run.results.all())
    run.summary = run_summary(results)
    run.diff = run_diff(run, results)
    run.status = EvalRunStatus.SUCCEEDED
    run.finished_at = timezone.now()
    run.mode, run.provider, run.model = mode, provider, model
    run.done = len(results)
    run.save(update_fields=["summary", "diff", "status", "finished_at", "mode", "provider", "model", "done"])
    return run


def _fail(run_id, message: str) -> None:
    EvalRun.objects.filter(pk=run_id).update(
        status=EvalRunStatus.FAILED, error=message[:1000], finished_at=timezone.now()
    )


async def _reference(source, case: EvalCase, principal):
    result = await data_source_query(source=source, sql=case.reference_sql, principal=principal)
    return result.columns, result.rows


async def run_case(*, case: EvalCase, source, principal) -> dict:
    """One case through the chat path: the agent's result compared with the reference's."""
    started = time.perf_counter()
    outcome = {"case_id": case.pk, "question": case.question, "matched": False, "reason": "", "sql": ""}
    try:
        prepared = await chat_prepare(
            principal=principal, message=case.question, data_source=str(source.pk), persist=False
        )
        seen = [event async for event in chat_stream(prepared)]
    except ApplicationError as exc:
        seen = [events.error(exc.code, exc.message, exc.details)]
    latency = (time.perf_counter() - started) * 1000
    done = next((e for e in reversed(seen) if e["type"] == events.DONE), None)
    lineage = (done or {}).get("lineage") or {}
    error = next((e["error"] for e in seen if e["type"] == events.ERROR), None)
    table = next((e for e in reversed(seen) if e["type"] == events.TABLE), None)
    outcome.update(
        sql=lineage.get("sql") or "",
        error=error,
        confidence=((lineage.get("confidence") or {}).get("tier")) or "",
        retries=int(lineage.get("retries") or 0),
        latency_ms=round(latency, 1),
        timings=lineage.get("timings_ms") or {},
        usage=lineage.get("usage") or {},
    )
    if table is None:
        outcome["reason"] = f"no result ({error['code']})" if error else "no query was run"
        return outcome
    try:
        reference = await _reference(source, case, principal)
    except ApplicationError as exc:
        outcome["reason"] = f"the reference SQL failed: {exc.message}"[:300]
        return outcome
    verdict = results_match(
        reference, (table["columns"], table["rows"]), ordered=reference_orders(case.reference_sql, source.engine)
    )
    outcome["matched"], outcome["reason"] = verdict.matched, verdict.reason
    return outcome


async def eval_run_execute(run_id, *, on_progress: Callable[[int, int], None] | None = None) -> EvalRun | None:
    """Execute the pending run ``run_id``; ``None`` when it is not pending (already claimed)."""
    claimed = await orm(_claim, run_id)
    if claimed is None:
        return None
    run, cases, principal = claimed
    source = run.eval_set.data_source
    if principal is None:
        await orm(_fail, run_id, "The user who started the run no longer exists.")
        return None
    limit = asyncio.Semaphore(max(1, int(getattr(settings, "EVAL_CONCURRENCY", 8))))
    pending: list[dict] = []
    done = 0
    last_flush = time.monotonic()
    tasks: list[asyncio.Future] = []

    async def one(case: EvalCase) -> dict:
        async with limit:
            return await run_case(case=case, source=source, principal=principal)

    try:
        tasks = [asyncio.ensure_future(one(case)) for case in cases]  # started in the cases' order
        for finished in asyncio.as_completed(tasks):
            outcome = await finished
            case_id = outcome.pop("case_id")
            pending.append({"case_id": case_id, **outcome})
            done += 1
            if on_progress is not None:
                on_progress(done, len(cases))
            if time.monotonic() - last_flush >= PROGRESS_EVERY_SECONDS:
                await orm(_store, run_id, pending, done)
                pending, last_flush = [], time.monotonic()
        await orm(_store, run_id, pending, done)
        from agent.llm.registry import llm_service

        service = await orm(_safe_service, llm_service)
        meta = {
            "mode": "llm" if service is not None else "offline",
            "provider": getattr(service, "provider", ""),
            "model": getattr(service, "model", ""),
        }
        return await orm(_finish, run_id, **meta)
    except BaseException as exc:
        for task in tasks:
            task.cancel()
        if not isinstance(exc, Exception):  # cancelled or interrupted: the sweep of stale runs marks it
            raise
        logger.exception("Evaluation run %s failed", run_id)
        await orm(_fail, run_id, f"The run stopped: {type(exc).__name__}")
        raise


def _safe_service(factory):
    try:
        return factory()
    except ApplicationError:
        return None
