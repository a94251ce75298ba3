"""Model validation (full_clean): the admin and forms refuse impossible clinic settings."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from booking.models import Appointment, Location, TimeOff, TreatmentPlan, WorkingHours
from tests import factories
from tests.helpers import NEW_YORK


def messages(error: ValidationError) -> str:
    return " ".join(error.messages)


def protocol(**fields):
    """An unsaved microneedling protocol (3/3/5 sessions, 28-42 days, 0.5-2.5 mm) changed by
    `fields`."""
    return factories.ProtocolFactory.build(treatment=factories.TreatmentFactory(), **fields)


def test_a_sound_protocol_is_valid(db):
    protocol().full_clean()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"min_sessions": 4, "default_sessions": 3}, "between the minimum and the maximum"),
        ({"default_sessions": 6}, "between the minimum and the maximum"),
        ({"min_sessions": 6, "default_sessions": 6}, "minimum number of sessions cannot be more"),
        ({"min_sessions": 0, "default_sessions": 0}, "at least 1"),
    ],
)
def test_a_protocol_keeps_its_session_counts_in_order(db, fields, message):
    with pytest.raises(ValidationError) as error:
        protocol(**fields).full_clean()

    assert message in messages(error.value)


def test_a_protocol_interval_minimum_cannot_exceed_its_maximum(db):
    with pytest.raises(ValidationError) as error:
        protocol(interval_min_days=42, interval_max_days=28).full_clean()

    assert "shortest interval" in messages(error.value)


def test_a_protocol_may_have_equal_interval_bounds(db):
    protocol(interval_min_days=28, interval_max_days=28).full_clean()


def test_maintenance_offsets_must_increase(db):
    with pytest.raises(ValidationError) as error:
        protocol(maintenance_offsets_months=[12, 6]).full_clean()

    assert "increasing order" in messages(error.value)


def test_needle_depth_bounds_must_be_in_order(db):
    with pytest.raises(ValidationError) as error:
        protocol(
            needle_depth_min_mm=Decimal("2.5"), needle_depth_max_mm=Decimal("0.5")
        ).full_clean()

    assert "at most the maximum" in messages(error.value)


@pytest.mark.parametrize(
    ("low", "high"), [(Decimal("0.5"), None), (None, Decimal("2.5"))], ids=["min", "max"]
)
def test_needle_depth_needs_both_bounds_or_neither(db, low, high):
    with pytest.raises(ValidationError) as error:
        protocol(needle_depth_min_mm=low, needle_depth_max_mm=high).full_clean()

    assert "both needle-depth bounds, or neither" in messages(error.value)


def test_a_protocol_without_needle_depths_is_valid(db):
    protocol(needle_depth_min_mm=None, needle_depth_max_mm=None).full_clean()


def test_an_appointment_must_end_after_it_starts(clinic, patient):
    start = datetime(2027, 3, 2, 10, tzinfo=NEW_YORK)
    appointment = Appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        provider=clinic["provider"],
        room=clinic["room"],
        start=start,
        end=start - timedelta(minutes=30),
        provider_start=start,
        held_until=start,
    )

    with pytest.raises(ValidationError) as error:
        appointment.full_clean()

    assert error.value.message_dict["end"] == ["An appointment must end after it starts."]


def test_an_appointment_with_times_from_its_treatment_is_valid(clinic, patient):
    appointment = Appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        provider=clinic["provider"],
        room=clinic["room"],
    )
    appointment.set_times(datetime(2027, 3, 2, 10, tzinfo=NEW_YORK))

    appointment.full_clean()


def test_a_location_refuses_an_unknown_time_zone_with_a_readable_message(db):
    location = Location(name="Savannah", slug="savannah", time_zone="America/Atlantaa")

    with pytest.raises(ValidationError) as error:
        location.full_clean()

    assert error.value.message_dict["time_zone"] == [
        "America/Atlantaa is not a time zone name; use one like America/New_York."
    ]


def test_working_hours_must_end_after_they_start(provider, location):
    hours = WorkingHours(
        provider=provider, location=location, weekday=0, start_time=time(17), end_time=time(9)
    )

    with pytest.raises(ValidationError) as error:
        hours.full_clean()

    assert error.value.message_dict["end_time"] == ["Working hours must end after they start."]


def test_time_off_must_end_after_it_starts(provider):
    start = datetime(2027, 3, 5, 9, tzinfo=NEW_YORK)
    time_off = TimeOff(provider=provider, start=start, end=start)

    with pytest.raises(ValidationError) as error:
        time_off.full_clean()

    assert error.value.message_dict["end"] == ["Time off must end after it starts."]


@pytest.mark.parametrize("sessions", [2, 6])
def test_a_plan_refuses_a_session_count_outside_the_protocol(clinic, patient, sessions):
    plan = TreatmentPlan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=sessions,
        first_date=date(2027, 3, 2),
    )

    with pytest.raises(ValidationError) as error:
        plan.full_clean()

    assert error.value.message_dict["sessions"] == ["Choose between 3 and 5 sessions."]


@pytest.mark.parametrize("sessions", [3, 5])
def test_a_plan_accepts_the_protocols_bounds(clinic, patient, sessions):
    TreatmentPlan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=sessions,
        first_date=date(2027, 3, 2),
    ).full_clean()


def test_a_plan_needs_a_treatment_with_a_protocol(location, patient):
    facial = factories.TreatmentFactory(name="HydraFacial")
    plan = TreatmentPlan(
        patient=patient, treatment=facial, location=location, sessions=1, first_date=date.today()
    )

    with pytest.raises(ValidationError) as error:
        plan.full_clean()

    assert error.value.message_dict["treatment"] == ["This treatment has no protocol to plan."]


def test_the_audit_trail_outlives_the_record_it_describes(db):
    from booking.models import AuditEntry, Patient

    patient = Patient.objects.create(first_name="Gone", last_name="Away")
    AuditEntry.objects.create(action="edited", patient=patient, changes={"phone": ["1", "2"]})

    patient.delete()

    entry = AuditEntry.objects.get()
    assert entry.patient is None and entry.changes == {"phone": ["1", "2"]}


def test_a_plan_with_visits_cannot_be_deleted(clinic, patient, now):
    from django.db.models import ProtectedError

    from booking import services

    plan = services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=now.replace(day=2, hour=10),
        now=now,
    )

    with pytest.raises(ProtectedError):
        plan.delete()
