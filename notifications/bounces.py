"""What the mail provider tells us through django-anymail: an address bounced (permanently)
or its owner marked our message as spam. Either way email reminders stop for every patient
with that address (audited, as any consent change), and the desk sees it on the patient's
record and on the failed-messages page (models.BouncedEmail). Anymail checks the webhook's
signature or basic auth before this runs; a replayed event (same provider event id) changes
nothing.
"""

from datetime import datetime

from anymail.signals import AnymailTrackingEvent, EventType, tracking
from django.db import transaction
from django.utils import timezone

from booking import services
from booking.models import Patient
from notifications.models import BouncedEmail

__all__ = ["STOPS_EMAIL", "connect", "record_bounce"]

STOPS_EMAIL = frozenset({EventType.BOUNCED, EventType.COMPLAINED})


@transaction.atomic
def record_bounce(
    *, address: str, event_type: str, esp: str, event_id: str, description: str, now: datetime
) -> list[BouncedEmail]:
    """Turn email reminders off for the patients with ``address``; one row per patient (or
    one without a patient when nobody has it)."""
    address = address.strip()
    if not address:
        return []
    seen = BouncedEmail.objects.filter(esp=esp, event_id=event_id, address__iexact=address)
    if event_id and seen.exists():
        return []
    patients: list[Patient | None] = [*Patient.objects.filter(email__iexact=address)] or [None]
    what = "bounced" if event_type == EventType.BOUNCED else "was marked as spam"
    rows = []
    for patient in patients:
        if patient is not None:
            services.set_consent(
                patient,
                now=now,
                reason=f"Email to {address} {what} ({esp})"[:200],
                email_consent=False,
            )
        rows.append(
            BouncedEmail.objects.create(
                patient=patient,
                address=address,
                event_type=event_type,
                esp=esp,
                event_id=event_id,
                description=description[:300],
                at=now,
            )
        )
    return rows


def on_tracking(sender, *, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    if event.event_type not in STOPS_EMAIL:
        return
    record_bounce(
        address=event.recipient or "",
        event_type=str(event.event_type),
        esp=esp_name,
        event_id=str(event.event_id or ""),
        description=str(event.description or event.mta_response or ""),
        now=timezone.now(),
    )


def connect() -> None:
    tracking.connect(on_tracking, dispatch_uid="notifications.bounces")
