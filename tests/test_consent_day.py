"""What staff see of consent: "Consent signed (v1, 1 Mar)" or "Consent missing" on My day, the
chart header and the desk's visit page, in a fixed number of queries; charting a visit without
consent needs a reason."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from booking.models import Appointment, AuditEntry
from charts.models import TreatmentChart
from tests import factories
from tests.consent_helpers import consent_form, sign_version
from tests.helpers import sign_in
from tests.test_chart import MONDAY, at, book_visit
from tests.test_chart_pages import chart_url, form_data


@pytest.fixture(autouse=True)
def sessions_outlive_time_travel(settings):
    settings.SESSION_COOKIE_AGE = 60 * 60 * 24 * 365 * 20


@pytest.fixture
def aesthetician_client(client, clinic):
    return sign_in(client, clinic["provider"].user)


@pytest.fixture
def visit(clinic, patient):
    return book_visit(clinic, patient, at(MONDAY, 10))


@pytest.fixture
def version(treatment):
    return consent_form(treatment, now=at(MONDAY, 7))


def _my_day(client):
    with time_machine.travel(at(MONDAY, 8), tick=False):
        return client.get(reverse("my_day"))


def test_my_day_says_consent_missing_until_the_patient_signs(aesthetician_client, version, visit):
    assert "Consent missing: Microneedling consent (v1)" in _my_day(aesthetician_client).text
    assert reverse("staff_visit_consent", args=[visit.pk]) in _my_day(aesthetician_client).text

    sign_version(version, visit.patient, now=at(MONDAY - timedelta(days=2), 18), appointment=visit)

    text = _my_day(aesthetician_client).text
    assert "Consent signed (v1, 27 Feb)" in text
    assert "Consent missing" not in text


def test_my_day_asks_again_after_the_form_changes(aesthetician_client, version, visit):
    sign_version(version, visit.patient, now=at(MONDAY, 7), appointment=visit)
    version.form.body = "A new paragraph on risks."
    version.form.save()
    from consent import services

    services.publish(version.form, now=at(MONDAY, 7))

    assert "Consent missing: Microneedling consent (v2)" in _my_day(aesthetician_client).text


def test_my_day_says_nothing_of_consent_for_a_treatment_without_a_form(aesthetician_client, visit):
    assert "consent" not in _my_day(aesthetician_client).text.lower()


@pytest.mark.parametrize("count", [2, 10])
def test_the_consent_status_costs_the_same_queries_for_2_or_10_visits(
    aesthetician_client, clinic, django_assert_num_queries, count
):
    check = factories.TreatmentFactory(
        name="Skin check", duration_minutes=15, numbing_minutes=0, cleanup_minutes=0
    )
    clinic["provider"].treatments.add(check)
    clinic["room"].treatments.add(check)
    version = consent_form(check, now=at(MONDAY, 7))
    for n in range(count):
        patient = factories.PatientFactory(user=None, first_name=f"P{n}")
        start = at(MONDAY, 9) + timedelta(minutes=20 * n)
        visit = book_visit({**clinic, "treatment": check}, patient, start)
        if n % 2:
            sign_version(version, patient, now=at(MONDAY, 7), appointment=visit)

    # The same count for 2 or 10 visits: the forms in force and their signatures are two
    # (of fourteen, with the calendar feed panel).
    with django_assert_num_queries(14):
        response = _my_day(aesthetician_client)
    assert response.text.count("Consent signed (v1, 1 Mar)") == count // 2
    assert response.text.count("Consent missing") == count - count // 2


def test_the_chart_header_shows_the_consent(aesthetician_client, version, visit):
    with time_machine.travel(at(MONDAY, 10, 30), tick=False):
        page = aesthetician_client.get(chart_url(visit))
    assert "Consent missing" in page.text
    assert "Reason to complete without a signed consent" in page.text


def test_charting_a_visit_without_consent_needs_a_reason(aesthetician_client, version, visit):
    with time_machine.travel(at(MONDAY, 11), tick=False):
        refused = aesthetician_client.post(chart_url(visit), form_data())
    assert "Consent missing: Microneedling consent (v1) not signed." in refused.text
    assert not TreatmentChart.objects.filter(appointment=visit).exists()
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.BOOKED

    with time_machine.travel(at(MONDAY, 11), tick=False):
        aesthetician_client.post(
            chart_url(visit), form_data(consent_reason="Patient's hand in a cast; verbal consent")
        )
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.COMPLETED
    entry = AuditEntry.objects.get(action="completed_without_consent", appointment=visit)
    assert entry.reason == "Patient's hand in a cast; verbal consent"


def test_charting_a_consented_visit_completes_it(aesthetician_client, version, visit):
    sign_version(version, visit.patient, now=at(MONDAY, 7), appointment=visit)
    with time_machine.travel(at(MONDAY, 11), tick=False):
        aesthetician_client.post(chart_url(visit), form_data())
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.COMPLETED


def test_the_desk_visit_page_offers_tablet_signing_and_a_reason_field(
    client, front_desk, version, visit
):
    sign_in(client, front_desk)
    with time_machine.travel(at(MONDAY, 8), tick=False):
        page = client.get(reverse("desk:appointment", args=[visit.pk]))
    assert "Consent missing" in page.text
    assert reverse("staff_visit_consent", args=[visit.pk]) in page.text
    assert "Reason to complete without a signed consent" in page.text
