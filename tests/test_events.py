"""booking announces its changes through booking.events inside the service's transaction: the
outbox reacts in that transaction, and a receiver that fails takes the change down with it."""

from datetime import date

import pytest

from booking import events, services
from booking.models import Appointment, AuditEntry
from notifications.models import Notification
from tests.helpers import at, book

TUESDAY = date(2027, 3, 2)


def test_booking_a_visit_queues_its_messages_in_the_same_transaction(clinic, patient, now):
    visit = book(clinic, patient, at(TUESDAY, 10), now, staff=True)

    assert Notification.objects.filter(appointment=visit, kind="confirmation").exists()


@pytest.mark.parametrize("signal", ["appointment_booked", "appointment_cancelled"])
def test_a_failing_receiver_rolls_the_change_back(signal, clinic, patient, now):
    visit = (
        book(clinic, patient, at(TUESDAY, 10), now, staff=True)
        if signal != "appointment_booked"
        else None
    )
    audit_before = AuditEntry.objects.count()

    def broken(sender, **kwargs):
        raise RuntimeError("the outbox is down")

    getattr(events, signal).connect(broken, dispatch_uid="test-broken")
    try:
        with pytest.raises(RuntimeError):
            if visit is None:
                book(clinic, patient, at(TUESDAY, 12), now, staff=True)
            else:
                services.cancel_appointment(appointment=visit, now=now, staff=True)
    finally:
        getattr(events, signal).disconnect(dispatch_uid="test-broken")

    assert AuditEntry.objects.count() == audit_before
    if visit is None:
        assert not Appointment.objects.exists()
    else:
        visit.refresh_from_db()
        assert visit.is_active
        assert not Notification.objects.filter(appointment=visit, kind="cancelled").exists()
