"""Celery tasks of the agent: evaluation runs (issue 17).

The run claims itself first (``pending`` → ``running``), so a redelivered message does nothing. Without
``REDIS_URL`` the task runs eagerly in the caller's process (README "Backups" explains eager tasks).
"""

from asgiref.sync import async_to_sync
from celery import shared_task

from agent.evals.runner import eval_run_execute


@shared_task(acks_late=True, ignore_result=True)
def eval_run_task(run_id: str) -> None:
    async_to_sync(eval_run_execute)(run_id)
