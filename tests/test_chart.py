"""Treatment charts: depths against the protocol's bounds, completing the visit, editing on
the day and correcting afterwards, and re-planning the rest of the series."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from booking import schedule, services
from booking.models import Appointment, AuditEntry, TreatmentPlan
from charts import services as charting
from charts.models import TreatmentChart
from notifications.models import Notification
from tests.helpers import NEW_YORK, at

MONDAY = date(2027, 3, 1)


def book_visit(clinic, patient, start, **kwargs) -> Appointment:
    """A visit booked by the front desk a week before it happens."""
    return services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=start,
        now=start - timedelta(days=7),
        staff=True,
        **kwargs,
    )


def details(**overrides) -> dict:
    return {
        "numbing_agent": "BLT 20/6/4",
        "numbing_applied_at": at(MONDAY, 10),
        "device": "SkinPen Precision",
        "cartridge_lot": "LOT-2291",
        "skin_response": "expected",
        "aftercare_given": "Aftercare sheet; no makeup for 24 h.",
        "notes": "",
        **overrides,
    }


def depths(**zones) -> list[charting.ZoneEntry]:
    """depths(forehead=1.0, scar=(2.75, "reason")): millimetres, with a reason if given."""
    entries = []
    for zone, value in zones.items():
        depth, reason = value if isinstance(value, tuple) else (value, "")
        entries.append(charting.ZoneEntry(zone, Decimal(str(depth)), reason))
    return entries


def chart(visit, now, actor=None, **zones):
    return charting.save_chart(
        appointment=visit,
        details=details(),
        zones=depths(**zones) or depths(forehead=1.0, cheeks=1.5),
        now=now,
        actor=actor,
    )


@pytest.fixture
def visit(clinic, patient):
    return book_visit(clinic, patient, at(MONDAY, 10))


def test_saving_a_chart_completes_the_visit_and_audits_both(visit, clinic):
    aesthetician = clinic["provider"].user

    saved = chart(visit, at(MONDAY, 11, 30), actor=aesthetician, forehead=1.0, cheeks=1.5)

    visit.refresh_from_db()
    assert visit.status == Appointment.Status.COMPLETED
    assert [(z.zone, z.depth_mm) for z in saved.chart.zones.all()] == [
        ("forehead", Decimal("1.00")),
        ("cheeks", Decimal("1.50")),
    ]
    actions = set(AuditEntry.objects.filter(appointment=visit).values_list("action", "actor"))
    assert ("charted", aesthetician.pk) in actions
    assert ("completed", aesthetician.pk) in actions


@pytest.mark.parametrize("depth", ["0.5", "2.5", "1.25"])
def test_a_depth_within_the_protocol_bounds_needs_no_reason(visit, depth):
    saved = chart(visit, at(MONDAY, 11), forehead=depth)

    assert saved.chart.zones.get().depth_mm == Decimal(depth)


@pytest.mark.parametrize("depth", ["0.25", "2.75"])
def test_a_depth_outside_the_bounds_is_refused_without_a_reason(visit, depth):
    with pytest.raises(services.BookingError, match=r"outside this protocol's 0.50-2.50 mm"):
        chart(visit, at(MONDAY, 11), forehead=depth)

    visit.refresh_from_db()
    assert visit.status == Appointment.Status.BOOKED
    assert not TreatmentChart.objects.exists()


def test_a_depth_outside_the_bounds_is_kept_with_its_reason(visit):
    saved = chart(visit, at(MONDAY, 11), scar=(2.75, "Atrophic acne scar, deeper by plan"))

    zone = saved.chart.zones.get()
    assert zone.depth_mm == Decimal("2.75")
    assert zone.outside_bounds_reason == "Atrophic acne scar, deeper by plan"


def test_a_chart_needs_at_least_one_zone_and_positive_depths(visit):
    with pytest.raises(services.BookingError, match="at least one"):
        charting.save_chart(appointment=visit, details=details(), zones=[], now=at(MONDAY, 11))
    with pytest.raises(services.BookingError, match="more than 0"):
        chart(visit, at(MONDAY, 11), forehead=(0, "no"))


def test_a_visit_cannot_be_charted_before_it_starts_or_once_cancelled(visit):
    with pytest.raises(services.BookingError, match="not started"):
        chart(visit, at(MONDAY, 9, 55))

    services.cancel_appointment(appointment=visit, now=at(MONDAY, 8), staff=True)
    with pytest.raises(services.BookingError, match="cancelled"):
        chart(visit, at(MONDAY, 11))


def test_a_visit_checked_in_early_is_charted_and_completed_before_its_start(visit):
    services.change_status(appointment=visit, status="checked_in", now=at(MONDAY, 9, 30))

    chart(visit, at(MONDAY, 9, 55))

    visit.refresh_from_db()
    assert visit.status == Appointment.Status.COMPLETED


def test_chart_refusal_says_when_charting_opens(visit):
    assert charting.chart_refusal(visit, now=at(MONDAY, 9, 59)) == (
        "This visit has not started yet: chart it once the patient is checked in or from "
        "10:00 AM on Mar 1."
    )
    assert charting.chart_refusal(visit, now=at(MONDAY, 10)) is None
    visit.status = Appointment.Status.NO_SHOW
    assert "no-show; there is nothing to chart" in charting.chart_refusal(visit, now=at(MONDAY, 11))


def test_the_day_closes_at_the_end_of_the_visits_local_day(visit):
    # 10:00 EST on Mar 1 is 15:00 UTC; the local day ends at 00:00 EST = 05:00 UTC on Mar 2.
    assert charting.day_closes_at(visit) == at(date(2027, 3, 2), 0)
    assert not charting.day_is_closed(visit, now=at(MONDAY, 23, 59))
    assert charting.day_is_closed(visit, now=at(date(2027, 3, 2), 0))


def test_on_the_day_saving_again_edits_the_chart_in_place(visit):
    first = chart(visit, at(MONDAY, 11), forehead=1.0).chart

    again = chart(visit, at(MONDAY, 18), cheeks=1.75).chart

    assert again.pk == first.pk
    assert [z.zone for z in again.zones.all()] == ["cheeks"]
    assert TreatmentChart.objects.count() == 1
    assert AuditEntry.objects.filter(appointment=visit, action="chart_edited").count() == 1


def test_after_the_day_closes_the_chart_is_not_edited_in_place(visit):
    chart(visit, at(MONDAY, 11), forehead=1.0)

    with pytest.raises(charting.ChartLocked, match="correction"):
        chart(visit, at(date(2027, 3, 2), 9), forehead=1.5)


def test_a_correction_is_a_new_entry_and_the_old_one_stays_superseded(visit, clinic):
    original = chart(visit, at(MONDAY, 11), forehead=1.0).chart
    later = at(date(2027, 3, 3), 9)

    correction = charting.correct_chart(
        chart=original,
        details=details(cartridge_lot="LOT-2292"),
        zones=depths(forehead=1.25),
        reason="Lot number and forehead depth were mistyped",
        now=later,
        actor=clinic["provider"].user,
    )

    original.refresh_from_db()
    assert original.superseded_at == later
    assert original.zones.get().depth_mm == Decimal("1.00")
    assert correction.corrects == original
    assert correction.cartridge_lot == "LOT-2292"
    assert list(TreatmentChart.objects.current()) == [correction]
    entry = AuditEntry.objects.get(action="chart_corrected")
    assert entry.reason == "Lot number and forehead depth were mistyped"


def test_a_correction_needs_a_reason_and_the_latest_entry(visit):
    original = chart(visit, at(MONDAY, 11)).chart
    later = at(date(2027, 3, 3), 9)
    with pytest.raises(services.BookingError, match="what the correction fixes"):
        charting.correct_chart(
            chart=original, details=details(), zones=depths(nose=1), reason=" ", now=later
        )
    charting.correct_chart(
        chart=original, details=details(), zones=depths(nose=1), reason="Nose too", now=later
    )

    with pytest.raises(services.BookingError, match="already corrected"):
        charting.correct_chart(
            chart=original, details=details(), zones=depths(nose=1), reason="Again", now=later
        )


@pytest.fixture
def plan(clinic, patient):
    return TreatmentPlan.objects.create(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_date=date(2027, 1, 4),
    )


def test_completing_a_late_session_replans_the_next_window_and_queues_book_your_next(
    clinic, patient, plan
):
    first = book_visit(clinic, patient, at(date(2027, 1, 4), 10), plan=plan, session_number=1)
    chart(first, at(date(2027, 1, 4), 12))
    on_time = schedule.sessions(plan)[2]
    # Session 2 was due Feb 1-15; the patient came on Feb 22.
    second = book_visit(
        clinic,
        patient,
        at(date(2027, 2, 22), 10),
        plan=plan,
        session_number=2,
        out_of_window_reason="Patient was travelling",
    )

    saved = chart(second, at(date(2027, 2, 22), 12))

    session_three = schedule.sessions(plan)[2]
    assert (on_time.earliest, on_time.latest) == (date(2027, 3, 8), date(2027, 3, 22))
    assert (session_three.earliest, session_three.latest) == (date(2027, 3, 22), date(2027, 4, 5))
    assert saved.next_session == session_three
    assert saved.next_appointment is None
    message = Notification.objects.get(key=f"plan:{plan.pk}:session:3:next_session:email")
    assert message.status == Notification.Status.PENDING
    assert message.due_at.astimezone(NEW_YORK).date() == date(2027, 3, 22)


def test_a_booked_next_session_left_outside_its_new_window_is_pointed_out(clinic, patient, plan):
    book_visit(clinic, patient, at(date(2027, 1, 4), 10), plan=plan, session_number=1)
    second = book_visit(
        clinic,
        patient,
        at(date(2027, 2, 22), 10),
        plan=plan,
        session_number=2,
        out_of_window_reason="Travelling",
    )
    book_visit(clinic, patient, at(date(2027, 3, 15), 10), plan=plan, session_number=3)

    saved = chart(second, at(date(2027, 2, 22), 12))

    assert saved.next_appointment.session_number == 3
    assert saved.next_is_outside_window
    pending = Notification.objects.filter(kind="next_session", status="pending")
    assert not pending.filter(session_number=3).exists()
