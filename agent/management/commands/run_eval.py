"""``manage.py run_eval <set>``: run an evaluation set through the agent with a progress bar; ``--fail-under-baseline``
exits non-zero when accuracy drops below the set's baseline (for deployment pipelines). Contract §7."""

import uuid

from asgiref.sync import async_to_sync

from agent.evals.runner import eval_run_execute
from agent.models import EvalRun, EvalSet
from majed_vanna.audit import audit_record
from majed_vanna.commands import Error, OperatorCommand

BAR = 30


def find_set(ref: str) -> EvalSet:
    sets = EvalSet.objects.select_related("data_source")
    try:
        found = sets.filter(pk=uuid.UUID(ref)).first()
    except ValueError:
        found = None
        matches = list(sets.filter(name__iexact=ref))
        if len(matches) > 1:
            raise Error(f"{len(matches)} evaluation sets are named {ref!r}; give its id.") from None
        found = matches[0] if matches else None
    if found is None:
        raise Error(f"No evaluation set {ref!r} (see GET /api/v1/agent/evals).")
    return found


def acting_user(username: str | None):
    from accounts.selectors import first_admin, user_by_username

    user = user_by_username(username) if username else first_admin()
    if user is None or not user.is_active:
        raise Error(f"No active user {username!r}." if username else "No active admin exists: pass --user.")
    return user


class Command(OperatorCommand):
    help = "Run an evaluation set (id or name) through the agent and print its accuracy, per tier and per case."

    def add_arguments(self, parser):
        parser.add_argument("eval_set", help="Evaluation set id or name")
        parser.add_argument("--user", help="Ask as this user (email); default: the first admin")
        parser.add_argument(
            "--fail-under-baseline",
            action="store_true",
            help="Exit 2 when the accuracy is below the set's baseline run's (a deployment gate)",
        )
        parser.add_argument("--baseline", action="store_true", help="Make this run the set's baseline")
        parser.add_argument("--quiet", action="store_true", help="No progress bar")

    def handle(self, *args, **options):
        eval_set = find_set(options["eval_set"])
        user = acting_user(options.get("user"))
        total = eval_set.cases.count()
        if not total:
            raise Error(f"The evaluation set {eval_set.name!r} has no cases.")
        baseline = EvalRun.objects.filter(eval_set=eval_set, is_baseline=True).first()
        run = EvalRun.objects.create(
            eval_set=eval_set, total=total, started_by_id=str(user.pk), started_by_name=user.username
        )
        audit_record(
            action="eval.run",
            actor=user,
            resource="eval_set",
            resource_id=eval_set.pk,
            details={"run_id": str(run.pk), "name": eval_set.name, "cases": total, "by": "manage.py run_eval"},
        )
        self.stdout.write(f"Running {total} case(s) of {eval_set.name!r} on {eval_set.data_source.name!r} as {user}.")
        progress = None if options["quiet"] else self._progress
        finished = async_to_sync(eval_run_execute)(run.pk, on_progress=progress)
        if progress:
            self.stdout.write("")
        if finished is None:
            raise Error("The run could not start (it was claimed by a worker, or its user is gone).")
        self._report(finished)
        if options["baseline"]:
            from agent.services.evals import eval_run_baseline

            eval_run_baseline(run=finished, actor=user)
            self.stdout.write("This run is now the baseline.")
        if options["fail_under_baseline"]:
            self._gate(finished, baseline)

    def _progress(self, done: int, total: int) -> None:
        filled = int(BAR * done / total) if total else BAR
        self.stdout.write(f"\r[{'#' * filled}{'.' * (BAR - filled)}] {done}/{total}", ending="")
        self.stdout.flush()

    def _report(self, run: EvalRun) -> None:
        s = run.summary or {}
        self.stdout.write(
            f"Execution accuracy {s.get('execution_accuracy', 0):.1%} ({s.get('matched', 0)}/{s.get('cases', 0)}), "
            f"{s.get('errors', 0)} error(s), latency mean {s.get('latency_ms', {}).get('mean', 0)} ms, "
            f"p95 {s.get('latency_ms', {}).get('p95', 0)} ms; mode {run.mode or '?'} {run.model}".rstrip()
        )
        for tier, row in (s.get("by_confidence") or {}).items():
            self.stdout.write(f"  {tier:>6}: {row['matched']}/{row['cases']} ({row['accuracy']:.0%})")
        diff = run.diff or {}
        for row in diff.get("regressed", []):
            self.stdout.write(f"  regressed: {row['question']} ({row['reason']})")
        self.stdout.write(f"Run {run.pk}: GET /api/v1/agent/evals/runs/{run.pk}/report")

    def _gate(self, run: EvalRun, baseline: EvalRun | None) -> None:
        if baseline is None:
            self.stdout.write("No baseline run yet: nothing to compare with (pass --baseline to set one).")
            return
        now = (run.summary or {}).get("execution_accuracy", 0)
        before = (baseline.summary or {}).get("execution_accuracy", 0)
        if now < before:
            raise Error(f"Accuracy {now:.1%} is below the baseline's {before:.1%}.", returncode=2)
        self.stdout.write(f"Accuracy {now:.1%} is not below the baseline's {before:.1%}.")
