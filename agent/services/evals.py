"""Writes of evaluation sets, cases and runs (issue 17; contract §5 "Knowledge" → Evaluation).

A case's reference SQL must pass the read-only gate for the set's data source when it is saved (a refusal is
422 with the rule). Starting a run creates a pending ``EvalRun`` and hands it to Celery after the commit
(``agent.tasks.eval_run_task``; without ``REDIS_URL`` it runs in this process); audited ``eval.run``.
"""

from typing import Any

from asgiref.sync import async_to_sync
from django.db import transaction

from agent.models import DataSource, EvalCase, EvalRun, EvalRunStatus, EvalSet
from agent.sql.types import SqlRefused
from majed_vanna.audit import audit_record
from majed_vanna.exceptions import ConflictError, ValidationFailedError

from .queries import data_source_check

MAX_IMPORT_CASES = 10_000


def _actor_name(actor) -> str:
    return getattr(actor, "username", "") or getattr(actor, "client_name", "") or ""


def reference_check(*, source: DataSource, sql: str, actor, field: str = "reference_sql") -> str:
    """``sql`` if the gate accepts it for ``source``; 422 naming the rule otherwise."""
    try:
        async_to_sync(data_source_check)(source=source, sql=sql, principal=actor)
    except SqlRefused as refused:
        raise ValidationFailedError(details={field: [f"{refused.message} (rule: {refused.rule})"]}) from None
    return sql


@transaction.atomic
def eval_set_create(*, name: str, data_source: DataSource, description: str = "", actor) -> EvalSet:
    if EvalSet.objects.filter(data_source=data_source, name=name).exists():
        raise ValidationFailedError(details={"name": ["An evaluation set of this name exists for this data source."]})
    return EvalSet.objects.create(
        name=name, data_source=data_source, description=description, created_by=_actor_name(actor)
    )


@transaction.atomic
def eval_set_update(*, eval_set: EvalSet, actor, **changes) -> EvalSet:
    name = changes.get("name")
    if (
        name
        and EvalSet.objects.filter(data_source_id=eval_set.data_source_id, name=name).exclude(pk=eval_set.pk).exists()
    ):
        raise ValidationFailedError(details={"name": ["An evaluation set of this name exists for this data source."]})
    for name, value in changes.items():
        setattr(eval_set, name, value)
    eval_set.save()
    return eval_set


def eval_set_delete(*, eval_set: EvalSet, actor) -> None:
    eval_set.delete()


def eval_case_create(*, eval_set: EvalSet, question: str, reference_sql: str, notes: str = "", actor) -> EvalCase:
    reference_check(source=eval_set.data_source, sql=reference_sql, actor=actor)
    position = eval_set.cases.count()
    return EvalCase.objects.create(
        eval_set=eval_set, question=question, reference_sql=reference_sql, notes=notes, position=position
    )


def eval_case_update(*, case: EvalCase, actor, **changes) -> EvalCase:
    if "reference_sql" in changes:
        reference_check(source=case.eval_set.data_source, sql=changes["reference_sql"], actor=actor)
    for name, value in changes.items():
        setattr(case, name, value)
    case.save()
    return case


def eval_case_delete(*, case: EvalCase, actor) -> None:
    case.delete()


def eval_set_export(eval_set: EvalSet) -> dict[str, Any]:
    return {
        "name": eval_set.name,
        "description": eval_set.description,
        "data_source": eval_set.data_source.name,
        "cases": [
            {"question": c.question, "reference_sql": c.reference_sql, "notes": c.notes} for c in eval_set.cases.all()
        ],
    }


async def _references_refused(*, source: DataSource, cases: list[dict], actor) -> dict[str, list[str]]:
    """The gate's refusals of ``cases``' references, by field name; all checked in one event loop (a loop per
    case cost more than the checks themselves)."""
    errors = {}
    for i, case in enumerate(cases):
        try:
            await data_source_check(source=source, sql=case["reference_sql"], principal=actor)
        except SqlRefused as refused:
            errors[f"cases[{i}].reference_sql"] = [f"{refused.message} (rule: {refused.rule})"]
    return errors


def eval_set_import(*, data_source: DataSource, name: str, description: str, cases: list[dict], actor) -> EvalSet:
    """A new set with ``cases`` (each reference checked by the gate first: all or nothing)."""
    if len(cases) > MAX_IMPORT_CASES:
        raise ValidationFailedError(details={"cases": [f"At most {MAX_IMPORT_CASES} cases per import."]})
    errors = async_to_sync(_references_refused)(source=data_source, cases=cases, actor=actor)
    if errors:
        raise ValidationFailedError(details=errors)
    with transaction.atomic():
        eval_set = eval_set_create(name=name, data_source=data_source, description=description, actor=actor)
        EvalCase.objects.bulk_create(
            EvalCase(
                eval_set=eval_set,
                question=c["question"],
                reference_sql=c["reference_sql"],
                notes=c.get("notes", ""),
                position=i,
            )
            for i, c in enumerate(cases)
        )
    return eval_set


def eval_run_start(*, eval_set: EvalSet, actor) -> EvalRun:
    """A pending run of ``eval_set`` by ``actor``, executed by Celery after the commit; audited ``eval.run``."""
    from agent.tasks import eval_run_task

    if not eval_set.cases.exists():
        raise ValidationFailedError(details={"cases": ["The evaluation set has no cases."]})
    with transaction.atomic():
        run = EvalRun.objects.create(
            eval_set=eval_set,
            total=eval_set.cases.count(),
            started_by_id=str(getattr(actor, "pk", "") or ""),
            started_by_name=_actor_name(actor),
        )
        audit_record(
            action="eval.run",
            actor=actor,
            resource="eval_set",
            resource_id=eval_set.pk,
            details={"run_id": str(run.pk), "name": eval_set.name, "cases": run.total},
        )
        transaction.on_commit(lambda: eval_run_task.delay(str(run.pk)))
    return run


@transaction.atomic
def eval_run_baseline(*, run: EvalRun, actor) -> EvalRun:
    """Make ``run`` (finished) its set's baseline; audited ``eval.baseline``."""
    if run.status != EvalRunStatus.SUCCEEDED:
        raise ConflictError("Only a finished run can be the baseline.")
    EvalRun.objects.filter(eval_set_id=run.eval_set_id, is_baseline=True).exclude(pk=run.pk).update(is_baseline=False)
    run.is_baseline = True
    run.save(update_fields=["is_baseline"])
    audit_record(
        action="eval.baseline",
        actor=actor,
        resource="eval_run",
        resource_id=run.pk,
        details={"eval_set": str(run.eval_set_id), "accuracy": (run.summary or {}).get("execution_accuracy")},
    )
    return run


def demo_eval_set_install(*, source: DataSource, by: str) -> tuple[EvalSet, int]:
    """The demo evaluation set on ``source`` (``seed_demo``), idempotent: missing cases are added. ``(set, added)``."""
    from agent.evals import demo_set

    with transaction.atomic():
        eval_set, _ = EvalSet.objects.get_or_create(
            data_source=source, name=demo_set.NAME, defaults={"description": demo_set.DESCRIPTION, "created_by": by}
        )
        known = set(eval_set.cases.values_list("question", flat=True))
        missing = [(q, sql) for q, sql in demo_set.CASES if q not in known]
        start = eval_set.cases.count()
        EvalCase.objects.bulk_create(
            EvalCase(eval_set=eval_set, question=q, reference_sql=sql, position=start + i)
            for i, (q, sql) in enumerate(missing)
        )
    return eval_set, len(missing)
