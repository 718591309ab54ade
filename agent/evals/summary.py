"""A run's figures (contract: ``summary: {cases, matched, execution_accuracy, by_confidence, latency_ms: {mean,
p95}}``, plus errors and tokens) and its diff against the baseline, or the previous finished run of the set."""

import math
from collections import defaultdict
from typing import Any

from agent.models import EvalResult, EvalRun, EvalRunStatus

TIERS = ("high", "medium", "low")


def _p95(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def run_summary(results: list[EvalResult]) -> dict[str, Any]:
    cases = len(results)
    matched = sum(1 for r in results if r.matched)
    tiers: dict[str, list[EvalResult]] = defaultdict(list)
    for r in results:
        tiers[r.confidence or "none"].append(r)
    latencies = [r.latency_ms for r in results]
    tokens = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    for r in results:
        for key in tokens:
            tokens[key] += int((r.usage or {}).get(key) or 0)
    return {
        "cases": cases,
        "matched": matched,
        "execution_accuracy": round(matched / cases, 4) if cases else 0.0,
        "errors": sum(1 for r in results if r.error),
        "by_confidence": {
            tier: {
                "cases": len(rows),
                "matched": sum(1 for r in rows if r.matched),
                "accuracy": round(sum(1 for r in rows if r.matched) / len(rows), 4),
            }
            for tier, rows in sorted(tiers.items(), key=lambda kv: (*TIERS, "none").index(kv[0]))
            if rows
        },
        "latency_ms": {
            "mean": round(sum(latencies) / cases, 1) if cases else 0.0,
            "p95": round(_p95(latencies), 1),
        },
        "tokens": tokens,
    }


def compared_run(run: EvalRun) -> EvalRun | None:
    """The run to compare with: the set's baseline (unless it is this run), else the previous finished one."""
    runs = EvalRun.objects.filter(eval_set_id=run.eval_set_id, status=EvalRunStatus.SUCCEEDED).exclude(pk=run.pk)
    baseline = runs.filter(is_baseline=True).first()
    if baseline is not None:
        return baseline
    return runs.filter(created_at__lt=run.created_at).order_by("-created_at", "-id").first()


def run_diff(run: EvalRun, results: list[EvalResult]) -> dict[str, Any] | None:
    """Cases that got worse first, then better; ``None`` when there is nothing to compare with."""
    other = compared_run(run)
    if other is None:
        return None
    before = {r.case_id: r for r in other.results.all() if r.case_id is not None}
    worse, better = [], []
    for r in results:
        previous = before.get(r.case_id)
        if previous is None or previous.matched == r.matched:
            continue
        row = {"case_id": str(r.case_id), "question": r.question, "reason": r.reason, "sql": r.sql}
        (better if r.matched else worse).append(row)
    accuracy = (other.summary or {}).get("execution_accuracy")
    return {
        "against": str(other.pk),
        "against_baseline": other.is_baseline,
        "previous_accuracy": accuracy,
        "regressed": worse,
        "improved": better,
    }
