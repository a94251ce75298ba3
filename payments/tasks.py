"""Periodic payment work (Celery beat, settings.CELERY_BEAT_SCHEDULE): thin, calls services."""

from celery import shared_task
from django.utils import timezone

from payments import services


@shared_task
def release_unpaid_bookings() -> int:
    return services.release_unpaid(now=timezone.now())
