"""Periodic booking housekeeping (thin: the work is booking.services)."""

from celery import shared_task
from django.utils import timezone

from booking import services


@shared_task(ignore_result=True)
def sweep_expired_holds() -> dict[str, int]:
    """Delete expired holds and abandoned drafts (booking.services.holds)."""
    holds, drafts = services.sweep_expired(now=timezone.now())
    return {"holds": holds, "drafts": drafts}
