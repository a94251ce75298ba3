"""The chart page: start from the last session, save to complete, fix on the day, correct
after; the front desk reads charts but does not write them."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from booking import services
from booking.models import Appointment, TreatmentPlan
from charts import services as charting
from charts.models import TreatmentChart, Zone
from tests import factories
from tests.helpers import sign_in, untouched_form
from tests.test_chart import MONDAY, at, book_visit, chart, depths, details

TUESDAY = date(2027, 3, 2)


@pytest.fixture(autouse=True)
def sessions_outlive_time_travel(settings):
    settings.SESSION_COOKIE_AGE = 60 * 60 * 24 * 365 * 20


@pytest.fixture
def visit(clinic, patient):
    return book_visit(clinic, patient, at(MONDAY, 10))


@pytest.fixture
def aesthetician_client(client, clinic):
    sign_in(client, clinic["provider"].user)
    return client


def form_data(**overrides) -> dict:
    data = {
        "numbing_agent": "BLT 20/6/4",
        "numbing_applied_at": "10:02",
        "device": "SkinPen Precision",
        "cartridge_lot": "LOT-2291",
        "skin_response": "expected",
        "aftercare_given": "Aftercare sheet",
        "notes": "",
        "zones-TOTAL_FORMS": "2",
        "zones-INITIAL_FORMS": "2",
        "zones-MIN_NUM_FORMS": "0",
        "zones-MAX_NUM_FORMS": "13",
        "zones-0-zone": "forehead",
        "zones-0-depth_mm": "1.0",
        "zones-0-outside_bounds_reason": "",
        "zones-1-zone": "cheeks",
        "zones-1-depth_mm": "",
        "zones-1-outside_bounds_reason": "",
    }
    return data | overrides


def chart_url(visit) -> str:
    return reverse("visit_chart", args=[visit.pk])


@pytest.fixture
def last_session(clinic, patient):
    """Feb 1: cheeks at 1.75 mm with SkinPen, and a note for next time."""
    earlier = book_visit(clinic, patient, at(date(2027, 2, 1), 10))
    charting.save_chart(
        appointment=earlier,
        details=details(notes="Go 0.25 mm deeper on cheeks"),
        zones=depths(cheeks=1.75),
        now=at(date(2027, 2, 1), 12),
    )
    return earlier


def test_last_sessions_values_are_shown_beside_empty_fields_never_filled_in(
    aesthetician_client, last_session, visit
):
    with time_machine.travel(at(MONDAY, 10, 5), tick=False):
        response = aesthetician_client.get(chart_url(visit))

    assert response.status_code == 200
    fields = untouched_form(response.text, "zones-TOTAL_FORMS")
    assert all(fields[f"zones-{n}-depth_mm"] == "" for n in range(13))
    assert fields["numbing_agent"] == fields["device"] == ""
    assert "last time: 1.75 mm" in response.text
    assert "Last time: SkinPen Precision" in response.text
    assert fields["numbing_applied_at"] == "10:00"  # numbing starts when the patient arrives
    assert "Save chart and complete visit" in response.text


def test_saving_the_untouched_form_records_nothing_and_asks_for_the_depths(
    aesthetician_client, last_session, visit
):
    with time_machine.travel(at(MONDAY, 11), tick=False):
        page = aesthetician_client.get(chart_url(visit))
        response = aesthetician_client.post(
            chart_url(visit), untouched_form(page.text, "zones-TOTAL_FORMS")
        )

    assert response.status_code == 200
    assert "Record the needle depth of at least one treated zone." in response.text
    assert TreatmentChart.objects.filter(appointment=visit).count() == 0
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.BOOKED


def test_same_as_last_time_fills_the_empty_fields_without_saving(
    aesthetician_client, last_session, visit
):
    with time_machine.travel(at(MONDAY, 11), tick=False):
        page = aesthetician_client.get(chart_url(visit))
        typed = untouched_form(page.text, "zones-TOTAL_FORMS") | {
            "zones-0-depth_mm": "0.75",  # forehead, typed before pressing the button
            "cartridge_lot": "LOT-3001",
            "aftercare_given": "Aftercare sheet",
        }
        filled = aesthetician_client.post(chart_url(visit), typed | {"same_as_last": "1"})

    assert filled.status_code == 200
    assert "Filled in from last time (Feb 1)" in filled.text
    fields = untouched_form(filled.text, "zones-TOTAL_FORMS")
    cheeks = Zone.values.index("cheeks")
    assert fields[f"zones-{cheeks}-depth_mm"] == "1.75"
    assert fields["zones-0-depth_mm"] == "0.75"
    assert (fields["device"], fields["cartridge_lot"]) == ("SkinPen Precision", "LOT-3001")
    assert TreatmentChart.objects.filter(appointment=visit).count() == 0

    with time_machine.travel(at(MONDAY, 11, 5), tick=False):
        saved = aesthetician_client.post(
            chart_url(visit), fields | {"skin_response": "expected"}, follow=True
        )

    assert "Chart saved" in saved.text
    chart_row = TreatmentChart.objects.get(appointment=visit)
    recorded = {z.zone: z.depth for z in chart_row.zones.all()}
    assert recorded == {"forehead": "0.75", "cheeks": "1.75"}


def test_the_last_note_is_shown_above_the_form(aesthetician_client, last_session, visit):
    with time_machine.travel(at(MONDAY, 10, 5), tick=False):
        response = aesthetician_client.get(chart_url(visit))

    main = response.text.split("<main", 1)[1]
    assert "Last note, Feb 1, 2027" in main
    assert main.index("Go 0.25 mm deeper on cheeks") < main.index('<form method="post"')


def test_a_visit_that_has_not_started_is_refused_before_the_form(
    aesthetician_client, last_session, visit
):
    with time_machine.travel(at(MONDAY, 9, 30), tick=False):
        page = aesthetician_client.get(chart_url(visit))
        post = aesthetician_client.post(chart_url(visit), form_data())

    assert page.status_code == 200
    assert (
        "This visit has not started yet: chart it once the patient is checked in or from "
        "10:00 AM on Mar 1." in page.text
    )
    assert (
        '<form method="post" novalidate' not in page.text.split("<main", 1)[1].split("</main>")[0]
    )
    assert "Go 0.25 mm deeper on cheeks" in page.text  # preparing is still possible
    assert post.status_code == 409
    assert "has not started yet" in post.text
    assert not TreatmentChart.objects.filter(appointment=visit).exists()


def test_a_visit_checked_in_early_can_be_charted_and_completed(aesthetician_client, visit):
    services.change_status(appointment=visit, status="checked_in", now=at(MONDAY, 9, 40))

    with time_machine.travel(at(MONDAY, 9, 50), tick=False):
        page = aesthetician_client.get(chart_url(visit))
        aesthetician_client.post(chart_url(visit), form_data())

    assert "Save chart and complete visit" in page.text
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.COMPLETED


def test_saving_completes_the_visit_and_returns_to_the_day_with_the_next_window(
    aesthetician_client, clinic, patient
):
    plan = TreatmentPlan.objects.create(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_date=MONDAY,
    )
    visit = book_visit(clinic, patient, at(MONDAY, 10), plan=plan, session_number=1)

    with time_machine.travel(at(MONDAY, 11, 30), tick=False):
        response = aesthetician_client.post(chart_url(visit), form_data(), follow=True)

    visit.refresh_from_db()
    assert visit.status == Appointment.Status.COMPLETED
    chart_row = TreatmentChart.objects.get()
    assert chart_row.numbing_applied_at == at(MONDAY, 10, 2)
    assert response.redirect_chain[-1][0].endswith(f"?date=2027-03-01#visit-{visit.pk}")
    assert "Chart saved and the visit marked completed." in response.text
    assert "Session 2 is due Mar 29 - Apr 12, 2027" in response.text


def test_a_depth_outside_the_bounds_without_a_reason_is_shown_on_the_form(
    aesthetician_client, visit
):
    with time_machine.travel(at(MONDAY, 11), tick=False):
        response = aesthetician_client.post(
            chart_url(visit), form_data(**{"zones-0-depth_mm": "3"})
        )

    assert response.status_code == 200
    assert "3 mm is outside this protocol&#x27;s 0.50-2.50 mm" in response.text
    assert 'class="form-control form-control-sm is-invalid"' in response.text
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.BOOKED


def test_a_chart_without_any_zone_is_refused(aesthetician_client, visit):
    with time_machine.travel(at(MONDAY, 11), tick=False):
        response = aesthetician_client.post(chart_url(visit), form_data(**{"zones-0-depth_mm": ""}))

    assert "Record the needle depth of at least one treated zone." in response.text
    assert not TreatmentChart.objects.exists()


def test_on_the_day_the_chart_page_updates_the_chart(aesthetician_client, visit):
    chart(visit, at(MONDAY, 11), forehead=1.0)

    with time_machine.travel(at(MONDAY, 17), tick=False):
        page = aesthetician_client.get(chart_url(visit))
        aesthetician_client.post(chart_url(visit), form_data(**{"zones-0-depth_mm": "1.25"}))

    assert "Update chart" in page.text
    assert TreatmentChart.objects.get().zones.get().depth == "1.25"


def test_after_the_day_the_chart_is_read_only_and_a_correction_keeps_the_original(
    aesthetician_client, visit
):
    original = chart(visit, at(MONDAY, 11), forehead=1.0).chart

    with time_machine.travel(at(TUESDAY, 9), tick=False):
        page = aesthetician_client.get(chart_url(visit))
        refused = aesthetician_client.post(chart_url(visit), form_data())
        correct_page = aesthetician_client.get(reverse("visit_chart_correct", args=[visit.pk]))
        response = aesthetician_client.post(
            reverse("visit_chart_correct", args=[visit.pk]),
            form_data(correction_reason="Forehead was 1.25 mm", **{"zones-0-depth_mm": "1.25"}),
            follow=True,
        )

    assert "Record a correction" in page.text
    assert '<form method="post"' not in page.text.split("<main", 1)[1].split("</main>")[0]
    assert refused.status_code == 302
    assert 'value="1.00"' in correct_page.text or 'value="1.0"' in correct_page.text
    assert "Correction recorded; the original entry is kept." in response.text
    assert "Earlier entries for this visit" in response.text
    original.refresh_from_db()
    assert original.is_superseded
    assert TreatmentChart.objects.current().get().corrects == original


def test_a_correction_needs_a_reason(aesthetician_client, visit):
    chart(visit, at(MONDAY, 11))

    with time_machine.travel(at(TUESDAY, 9), tick=False):
        response = aesthetician_client.post(
            reverse("visit_chart_correct", args=[visit.pk]), form_data(correction_reason="")
        )

    assert response.status_code == 200
    assert TreatmentChart.objects.count() == 1


def test_the_front_desk_reads_a_chart_but_cannot_write_one(client, front_desk, visit):
    chart(visit, at(MONDAY, 11), forehead=1.0)
    sign_in(client, front_desk)

    with time_machine.travel(at(MONDAY, 12), tick=False):
        page = client.get(chart_url(visit))
        post = client.post(chart_url(visit), form_data())

    assert page.status_code == 200
    assert "Forehead: <strong>1 mm</strong>" in page.text
    assert "Update chart" not in page.text
    assert post.status_code == 403


def test_another_aesthetician_cannot_see_the_visit(client, clinic, visit):
    other = factories.ProviderFactory(locations=[clinic["location"]])
    sign_in(client, other.user)

    assert client.get(chart_url(visit)).status_code == 404


@pytest.mark.parametrize(
    ("tampered", "message"),
    [
        ({"zones-0-zone": "elbow"}, "Select a valid choice"),
        ({"zones-1-zone": "forehead", "zones-1-depth_mm": "1.0"}, "Each zone once"),
        ({"zones-TOTAL_FORMS": "100000"}, "Please submit at most"),
    ],
)
def test_a_tampered_zone_table_is_a_form_error(aesthetician_client, visit, tampered, message):
    with time_machine.travel(at(MONDAY, 11), tick=False):
        response = aesthetician_client.post(chart_url(visit), form_data(**tampered))

    assert response.status_code == 200
    assert message in response.text
    assert not TreatmentChart.objects.exists()
