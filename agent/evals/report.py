"""What the run report page shows (``GET agent/evals/runs/{id}/report``): accuracy per run over time as an SVG
line (drawn here, no script, no CDN), per-tier accuracy, and the cases, regressed ones first."""

from typing import Any

from agent import selectors
from agent.models import EvalRun

WIDTH, HEIGHT, PAD = 640, 200, 30


def accuracy_points(runs: list[EvalRun]) -> list[dict[str, Any]]:
    points = []
    usable = [r for r in runs if r.summary]
    for i, run in enumerate(usable):
        accuracy = float(run.summary.get("execution_accuracy") or 0)
        x = PAD + (WIDTH - 2 * PAD) * (i / max(1, len(usable) - 1))
        y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * accuracy
        points.append(
            {
                "x": round(x, 1),
                "y": round(y, 1),
                "accuracy": round(accuracy * 100, 1),
                "when": run.created_at,
                "baseline": run.is_baseline,
                "id": str(run.pk),
            }
        )
    return points


def report_context(run: EvalRun) -> dict[str, Any]:
    points = accuracy_points(selectors.eval_run_history(run.eval_set))
    regressed = {row["case_id"] for row in ((run.diff or {}).get("regressed") or [])}
    results = sorted(run.results.all(), key=lambda r: (str(r.case_id) not in regressed, r.matched, r.question.lower()))
    return {
        "run": run,
        "eval_set": run.eval_set,
        "summary": run.summary or {},
        "diff": run.diff or {},
        "points": points,
        "polyline": " ".join(f"{p['x']},{p['y']}" for p in points),
        "width": WIDTH,
        "height": HEIGHT,
        "pad": PAD,
        "results": results,
        "regressed": regressed,
    }
