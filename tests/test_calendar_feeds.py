"""Calendar feeds: a private URL per aesthetician and per patient that calendar apps poll,
showing moves and cancellations, and nothing it should not."""

import re
from datetime import date, timedelta

import icalendar
import pytest
from django.urls import reverse

from booking import services
from calendars import feeds
from calendars.models import CalendarFeed
from tests import factories
from tests.helpers import at, book, sign_in

pytestmark = pytest.mark.usefixtures("isolated_cache")

TUESDAY = date(2027, 3, 2)


def parse(response) -> list[icalendar.Event]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return list(icalendar.Calendar.from_ical(response.content).walk("VEVENT"))


def feed_path(token: str) -> str:
    return reverse("calendar_feed", args=[token])


def test_a_patient_feed_shows_a_move_and_a_cancel_at_the_next_poll(client, clinic, patient, frozen):
    moved = book(clinic, patient, at(TUESDAY, 10), frozen)
    cancelled = book(clinic, patient, at(TUESDAY + timedelta(days=1), 10), frozen)
    token = feeds.rotate(patient=patient, now=frozen)
    before = {str(e["uid"]): e for e in parse(client.get(feed_path(token)))}

    services.reschedule_appointment(
        appointment=moved, start=at(TUESDAY, 14), now=frozen, staff=True
    )
    services.cancel_appointment(appointment=cancelled, now=frozen, staff=True)
    after = {str(e["uid"]): e for e in parse(client.get(feed_path(token)))}

    assert (
        after.keys()
        == before.keys()
        == {
            f"appointment-{moved.pk}@skinclinic",
            f"appointment-{cancelled.pk}@skinclinic",
        }
    )
    new, old = (
        after[f"appointment-{moved.pk}@skinclinic"],
        before[f"appointment-{moved.pk}@skinclinic"],
    )
    assert new.decoded("dtstart") == at(TUESDAY, 14)
    assert str(new["dtstart"].params["TZID"]) == "America/New_York"
    assert int(new["sequence"]) > int(old["sequence"])
    gone = after[f"appointment-{cancelled.pk}@skinclinic"]
    assert str(gone["status"]) == "CANCELLED"
    assert int(gone["sequence"]) > int(before[f"appointment-{cancelled.pk}@skinclinic"]["sequence"])
    assert b"BEGIN:VTIMEZONE" in client.get(feed_path(token)).content


def test_an_aesthetician_feed_shows_first_name_and_treatment_only(client, clinic, frozen):
    patient = factories.PatientFactory(first_name="Rosa", last_name="Secretname")
    visit = book(clinic, patient, at(TUESDAY, 10), frozen, staff=True)
    visit.notes = "Keloid history; nervous about needles"
    visit.save()
    token = feeds.rotate(provider=clinic["provider"], now=frozen)

    response = client.get(feed_path(token))
    (event,) = parse(response)

    assert str(event["summary"]) == f"Rosa: {clinic['treatment'].name}"
    body = response.content.decode()
    assert "Secretname" not in body
    assert "Keloid" not in body
    assert "DESCRIPTION" not in body


def test_a_rotated_token_404s_and_the_new_one_works(client, clinic, patient, frozen):
    book(clinic, patient, at(TUESDAY, 10), frozen)
    old = feeds.rotate(patient=patient, now=frozen)
    new = feeds.rotate(patient=patient, now=frozen)

    assert client.get(feed_path(old)).status_code == 404
    assert len(parse(client.get(feed_path(new)))) == 1
    assert CalendarFeed.objects.count() == 1
    assert not CalendarFeed.objects.filter(token_hash__contains=new).exists()  # only a hash


def test_another_patients_token_never_shows_your_visits(client, clinic, patient, frozen):
    mine = book(clinic, patient, at(TUESDAY, 10), frozen)
    other = factories.PatientFactory()
    theirs = book(clinic, other, at(TUESDAY, 14), frozen)
    token = feeds.rotate(patient=other, now=frozen)

    uids = {str(e["uid"]) for e in parse(client.get(feed_path(token)))}

    assert uids == {f"appointment-{theirs.pk}@skinclinic"}
    assert f"appointment-{mine.pk}@skinclinic" not in uids
    assert client.get(feed_path("made-up-token")).status_code == 404


def test_the_feed_keeps_a_window_of_30_days_back_and_a_year_ahead(client, clinic, patient, frozen):
    near = book(clinic, patient, at(TUESDAY, 10), frozen, staff=True)
    book(clinic, patient, at(date(2028, 3, 7), 10), frozen, staff=True)
    token = feeds.rotate(patient=patient, now=frozen)

    uids = {str(e["uid"]) for e in parse(client.get(feed_path(token)))}

    assert uids == {f"appointment-{near.pk}@skinclinic"}


def test_reading_a_feed_takes_the_same_queries_however_many_visits(
    client, clinic, patient, frozen, django_assert_num_queries
):
    token = feeds.rotate(provider=clinic["provider"], now=frozen)
    book(clinic, patient, at(TUESDAY, 10), frozen)
    with django_assert_num_queries(3):
        assert len(parse(client.get(feed_path(token)))) == 1
    for day in (1, 2, 3, 6, 7):  # the weekdays after
        book(clinic, factories.PatientFactory(), at(TUESDAY + timedelta(days=day), 10), frozen)
    with django_assert_num_queries(3):
        assert len(parse(client.get(feed_path(token)))) == 6


def test_a_patient_makes_a_link_on_my_details_and_a_new_one_kills_the_old(
    signed_in, patient, clinic
):
    page = signed_in.get(reverse("my_details")).content.decode()
    assert "Get a calendar link" in page

    made = signed_in.post(reverse("patient_calendar_feed"), {"make": "1"}).content.decode()
    first = re.search(r'value="(http://testserver/calendars/[^"]+\.ics)"', made).group(1)
    assert 'href="webcal://testserver/calendars/' in made
    assert "Google Calendar" in made and "Outlook" in made
    assert signed_in.get(first).status_code == 200

    page = signed_in.get(reverse("my_details")).content.decode()
    assert "Make a new link" in page
    signed_in.post(reverse("patient_calendar_feed"), {"make": "1"})
    assert signed_in.get(first).status_code == 404
    assert patient.audit_entries.filter(action="calendar_feed_rotated").exists()

    signed_in.post(reverse("patient_calendar_feed"), {"off": "1"})
    assert not CalendarFeed.objects.exists()


def test_an_aesthetician_makes_a_link_on_my_day(client, clinic, frozen):
    sign_in(client, clinic["provider"].user)
    assert "Get a calendar link" in client.get(reverse("my_day")).content.decode()

    made = client.post(reverse("provider_calendar_feed"), {"make": "1"}).content.decode()

    url = re.search(r'value="(http://testserver/calendars/[^"]+\.ics)"', made).group(1)
    assert client.get(url).status_code == 200
    assert CalendarFeed.objects.get().provider == clinic["provider"]


def test_the_front_desk_has_no_feed_of_its_own(client, front_desk, frozen):
    sign_in(client, front_desk)
    assert client.post(reverse("provider_calendar_feed"), {"make": "1"}).status_code == 404
    assert client.get(reverse("patient_calendar_feed")).status_code == 405


def test_a_move_in_the_admin_bumps_the_sequence_too(clinic, patient, frozen):
    visit = book(clinic, patient, at(TUESDAY, 10), frozen)
    visit.start = at(TUESDAY, 15)

    services.record_admin_save(visit, actor=None, changed=["start"], now=frozen)

    visit.refresh_from_db()
    assert visit.sequence == 1
    assert visit.start == at(TUESDAY, 15)
