"""Celery tasks: thin wrappers that take ids (or nothing) and call the dispatcher.

No task here is ever queued with an ETA or countdown: Redis redelivers long-delayed tasks.
Due times live in the outbox table and a beat job sweeps it every minute.
"""

from celery import shared_task

from notifications import dispatch


@shared_task(ignore_result=True)
def dispatch_due_messages() -> dict[str, int]:
    """Send every due message; safe to run twice at once or to receive twice."""
    return dispatch.dispatch_due()
