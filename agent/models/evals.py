"""Evaluation sets, their cases, runs and per-case results (issue 17; contract §5 "Knowledge" → Evaluation).

An ``EvalSet`` belongs to one data source and holds ``EvalCase`` rows: a question, the reference SQL (validated by
the read-only gate when saved) and notes. An ``EvalRun`` asks every case through the agent's one path (as a chat)
and stores an ``EvalResult`` per case; its ``summary`` holds execution accuracy, accuracy per confidence tier,
latency and tokens, and its ``diff`` the cases that changed against the baseline (or the previous run). One run
per set may be the baseline that ``manage.py run_eval --fail-under-baseline`` compares with.
"""

import uuid

from django.db import models


class EvalSet(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    data_source = models.ForeignKey("agent.DataSource", on_delete=models.CASCADE, related_name="eval_sets")
    created_by = models.CharField(max_length=254, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["data_source", "name"], name="agent_evalset_name_unique")]

    def __str__(self) -> str:
        return self.name


class EvalCase(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    eval_set = models.ForeignKey(EvalSet, on_delete=models.CASCADE, related_name="cases")
    question = models.TextField()
    reference_sql = models.TextField()
    notes = models.TextField(blank=True, default="")
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "created_at", "id"]

    def __str__(self) -> str:
        return self.question[:80]


class EvalRunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class EvalRun(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    eval_set = models.ForeignKey(EvalSet, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=16, choices=EvalRunStatus.choices, default=EvalRunStatus.PENDING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    mode = models.CharField(max_length=16, blank=True, default="", help_text="llm or offline")
    provider = models.CharField(max_length=32, blank=True, default="")
    model = models.CharField(max_length=200, blank=True, default="")
    is_baseline = models.BooleanField(default=False)
    summary = models.JSONField(null=True, blank=True)
    diff = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    started_by_id = models.CharField(max_length=64, blank=True, default="")
    started_by_name = models.CharField(max_length=254, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["eval_set"], condition=models.Q(is_baseline=True), name="agent_evalrun_one_baseline"
            )
        ]

    def __str__(self) -> str:
        return f"{self.eval_set} run {self.created_at:%Y-%m-%d %H:%M}"


class EvalResult(models.Model):
    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(EvalRun, on_delete=models.CASCADE, related_name="results")
    case = models.ForeignKey(EvalCase, null=True, on_delete=models.SET_NULL, related_name="results")
    question = models.TextField()
    matched = models.BooleanField(default=False)
    reason = models.CharField(max_length=300, blank=True, default="")
    sql = models.TextField(blank=True, default="")
    error = models.JSONField(null=True, blank=True)
    confidence = models.CharField(max_length=8, blank=True, default="")
    retries = models.PositiveIntegerField(default=0)
    latency_ms = models.FloatField(default=0)
    timings = models.JSONField(default=dict, blank=True)
    usage = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["run", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "case"], name="agent_evalresult_once")]

    def __str__(self) -> str:
        return f"{'match' if self.matched else 'miss'}: {self.question[:60]}"
