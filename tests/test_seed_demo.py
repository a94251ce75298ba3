"""`manage.py seed_demo`: a clinic that looks real, loaded once however often it runs."""

from datetime import datetime, time
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command

from booking import schedule, services
from booking.models import (
    Appointment,
    Location,
    Patient,
    Provider,
    Room,
    TimeOff,
    TreatmentPlan,
)
from treatments.models import ScreeningRule, Treatment
from treatments.screening import DEFAULT_RULES

# A Monday in Atlanta, two weeks before the spring-forward change (2027-03-14 02:00 EST).
SEEDED_AT = datetime(2027, 3, 1, 8, 0, tzinfo=ZoneInfo("America/New_York"))


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(db, monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    with time_machine.travel(SEEDED_AT, tick=False):
        return seed()


def snapshot() -> dict:
    """Every row of every table (auto-created many-to-many tables too), by primary key."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_models(include_auto_created=True)
    }


def test_it_creates_two_locations_with_their_rooms(seeded):
    buckhead = Location.objects.get(slug="buckhead")
    midtown = Location.objects.get(slug="midtown")

    assert buckhead.time_zone == midtown.time_zone == "America/New_York"
    assert buckhead.cancellation_notice_hours == 48
    assert "Atlanta" in buckhead.address and buckhead.phone
    assert [r.name for r in buckhead.rooms.all()] == [
        "Treatment Room 1",
        "Treatment Room 2",
        "Treatment Room 3",
    ]
    assert midtown.rooms.count() == 2
    prp = Treatment.objects.get(slug="microneedling-prp")
    assert not Room.objects.get(location=buckhead, name="Treatment Room 3").treatments.filter(
        pk=prp.pk
    )


def test_it_creates_four_aestheticians_with_different_hours(seeded):
    providers = Provider.objects.all()

    assert providers.count() == 4
    assert all(p.user.groups.filter(name="Aesthetician").exists() for p in providers)
    assert all(p.title for p in providers)
    weekly = {
        tuple((h.location.slug, h.weekday, h.start_time, h.end_time) for h in p.working_hours.all())
        for p in providers
    }
    assert len(weekly) == 4
    grace = Provider.objects.get(user__username="grace.kim")
    assert {loc.slug for loc in grace.locations.all()} == {"buckhead", "midtown"}


def test_one_aesthetician_has_an_upcoming_day_off(seeded):
    time_off = TimeOff.objects.get()
    tz = ZoneInfo("America/New_York")
    local_start, local_end = time_off.start.astimezone(tz), time_off.end.astimezone(tz)

    assert time_off.start > SEEDED_AT
    assert local_start.time() == local_end.time() == time(0)
    assert (local_end.date() - local_start.date()).days == 1
    assert time_off.provider.working_hours.filter(weekday=local_start.weekday()).exists()


def test_it_creates_the_treatments_and_their_protocols(seeded):
    slugs = set(Treatment.objects.values_list("slug", flat=True))
    assert slugs == {"microneedling", "microneedling-prp", "consultation", "hydrafacial",
                     "chemical-peel"}  # fmt: skip

    microneedling = Treatment.objects.get(slug="microneedling")
    assert (microneedling.duration_minutes, microneedling.numbing_minutes) == (60, 30)
    assert microneedling.cleanup_minutes == 15
    assert microneedling.price == 350
    assert microneedling.protocol.describe() == (
        "3 to 5 sessions, 4 to 6 weeks apart, then maintenance at 6 and 12 months"
    )
    assert microneedling.precare and microneedling.aftercare and microneedling.what_to_expect
    prp = Treatment.objects.get(slug="microneedling-prp").protocol
    assert (prp.min_sessions, prp.max_sessions, prp.needle_depth_max_mm) == (3, 4, 2)
    consultation = Treatment.objects.get(slug="consultation")
    assert consultation.is_consultation and consultation.price == 0
    assert Treatment.objects.get(slug="hydrafacial").protocol_or_none is None
    peel = Treatment.objects.get(slug="chemical-peel").protocol
    assert peel.describe() == "3 to 6 sessions, 3 to 5 weeks apart"
    for treatment in Treatment.objects.all():
        treatment.full_clean()
        if treatment.protocol_or_none:
            treatment.protocol.full_clean()


def test_the_default_screening_rules_guard_the_needling_and_peel_treatments(seeded):
    assert set(ScreeningRule.objects.values_list("code", flat=True)) == {
        rule.code for rule in DEFAULT_RULES
    }
    for slug in ("microneedling", "microneedling-prp", "chemical-peel"):
        assert Treatment.objects.get(slug=slug).screening_rules.count() == len(DEFAULT_RULES)
    assert not Treatment.objects.get(slug="hydrafacial").screening_rules.exists()


def test_it_books_patients_in_the_coming_weeks_and_one_course_under_way(seeded):
    assert Patient.objects.count() >= 6
    assert all(p.appointments.exists() for p in Patient.objects.all())
    assert TreatmentPlan.objects.count() >= 3
    # In the past: the demo patient's first microneedling session, done and charted (so the
    # aesthetician's day shows last time's needle depths), and one maintenance no-show.
    past = Appointment.objects.filter(start__lt=SEEDED_AT).order_by("start")
    assert sorted((a.kind, a.session_number, a.status) for a in past) == [
        (Appointment.Kind.INITIAL, 1, Appointment.Status.COMPLETED),
        (Appointment.Kind.MAINTENANCE, None, Appointment.Status.NO_SHOW),
    ]
    assert past.get(status=Appointment.Status.COMPLETED).charts.exists()
    assert past.get(status=Appointment.Status.COMPLETED).patient.user.username == "patient"
    assert Appointment.objects.filter(kind=Appointment.Kind.CONSULTATION).exists()


def test_demo_plans_have_every_session_inside_its_window(seeded):
    for plan in TreatmentPlan.objects.select_related("location", "treatment__protocol"):
        sessions = schedule.sessions(plan)
        appointments = list(plan.appointments.order_by("session_number"))
        assert [a.session_number for a in appointments] == list(range(1, plan.sessions + 1))
        for appointment in appointments:
            session = sessions[appointment.session_number - 1]
            assert session.contains(appointment.local_start.date()), appointment


def test_demo_visits_fall_inside_the_aestheticians_hours(seeded):
    for appointment in Appointment.objects.select_related("location", "provider"):
        local_start = appointment.local_start
        assert appointment.provider.working_hours.filter(
            location=appointment.location,
            weekday=local_start.weekday(),
            start_time__lte=local_start.time(),
            end_time__gte=appointment.local_end.time(),
        ).exists(), appointment


def test_the_sign_in_accounts_have_their_roles(seeded):
    frontdesk = User.objects.get(username="frontdesk")
    assert frontdesk.is_staff and frontdesk.groups.filter(name="Front desk").exists()
    assert frontdesk.has_perm("booking.change_appointment")
    assert User.objects.get(username="aesthetician").provider
    assert User.objects.get(username="patient").patient.plans.exists()
    assert User.objects.get(username="admin").is_superuser


def test_it_prints_the_accounts_and_their_passwords(seeded):
    lines = {line.split()[0]: line.split()[1] for line in seeded.splitlines() if line.strip()}

    for username in ("frontdesk", "aesthetician", "patient", "admin"):
        assert User.objects.get(username=username).check_password(lines[username])


def test_running_it_again_changes_nothing(seeded):
    before = snapshot()

    with time_machine.travel(SEEDED_AT.replace(day=3), tick=False):
        output = seed()

    assert snapshot() == before
    assert output.count("(unchanged)") == 4


def test_it_uses_demo_password_for_new_accounts(db, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "glow-up-2027")
    with time_machine.travel(SEEDED_AT, tick=False):
        seed()

    for username in ("frontdesk", "aesthetician", "patient", "admin"):
        assert User.objects.get(username=username).check_password("glow-up-2027")
    assert not User.objects.get(username="grace.kim").has_usable_password()


def test_it_keeps_a_time_that_is_already_taken_and_books_the_rest(db, monkeypatch):
    with time_machine.travel(SEEDED_AT, tick=False):
        seed()
        emily = Patient.objects.get(email="emily.chen@example.com")
        first = emily.appointments.order_by("start").first()
        other = Patient.objects.create(first_name="Walk", last_name="In")
        emily.appointments.all().delete()
        taken = services.book_appointment(
            patient=other,
            treatment=first.treatment,
            location=first.location,
            provider=first.provider,
            start=first.start,
            now=SEEDED_AT,
            staff=True,
        )

        output = seed()

    assert f"Skipped booking {emily}" in output
    taken.refresh_from_db()
    assert taken.patient == other and taken.is_active


def test_the_week_is_busy_at_both_locations(seeded):
    tz = ZoneInfo("America/New_York")
    active = Appointment.objects.active()
    today = [a for a in active if a.start.astimezone(tz).date() == SEEDED_AT.date()]
    week = [a for a in active if (a.start - SEEDED_AT).days < 7 and a.start > SEEDED_AT]

    # Monday: Olivia and Grace at Buckhead; later in the week Midtown too.
    assert len(today) >= 6
    assert {a.location.slug for a in week} == {"buckhead", "midtown"}
    per_day = {}
    for a in week:
        key = (a.provider_id, a.start.astimezone(tz).date())
        per_day[key] = per_day.get(key, 0) + 1
    assert min(per_day.values()) >= 2
    assert sum(1 for a in week if a.location.slug == "midtown") >= 6


def test_the_week_has_a_cancellation_a_no_show_and_a_waitlist_entry(seeded):
    from booking.models import WaitlistEntry

    assert Appointment.objects.filter(status=Appointment.Status.CANCELLED).count() == 1
    assert Appointment.objects.filter(status=Appointment.Status.NO_SHOW).count() == 1
    assert Appointment.objects.filter(kind=Appointment.Kind.MAINTENANCE).exists()
    entry = WaitlistEntry.objects.get()
    assert entry.status == WaitlistEntry.Status.WAITING and entry.location.slug == "midtown"


def test_the_front_desk_sees_one_failed_text_message(seeded):
    from notifications.models import Notification

    failed = Notification.objects.failed().get()
    assert failed.channel == "sms" and "Twilio" in failed.last_error


def test_the_course_under_way_has_before_and_after_photos_of_session_1(seeded, client):
    from django.urls import reverse

    from photos.models import Photo
    from tests.helpers import sign_in

    first = Appointment.objects.get(start__lt=SEEDED_AT, status=Appointment.Status.COMPLETED)
    assert sorted(first.photos.values_list("zone", "kind", "shareable")) == [
        ("cheeks", "after", True),
        ("cheeks", "before", True),
    ]
    assert Photo.objects.count() == 2  # seeding again (below) adds none
    seed()
    assert Photo.objects.count() == 2
    sign_in(client, first.patient.user)
    page = client.get(reverse("photos:my_progress", args=[first.plan_id])).content.decode()
    assert page.count('class="figure mb-1 photo"') == 4  # the pair, then session 1's row


def test_the_course_under_way_has_a_signed_consent_for_session_1(seeded):
    from consent.models import ConsentSignature
    from consent.services import status_for

    first = Appointment.objects.get(plan__patient__last_name="Thompson", session_number=1)
    signature = ConsentSignature.objects.get(appointment=first)
    assert signature.version.title == "Microneedling consent"
    assert signature.witnessed_by is not None
    assert signature.pdf.read().startswith(b"%PDF")
    assert status_for(first).valid
