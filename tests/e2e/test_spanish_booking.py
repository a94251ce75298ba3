"""A Spanish-speaking patient on a phone whose browser asks for Spanish: books a course in
Spanish from the first page to "booked", and the confirmation email and SMS the dispatcher
sends are in Spanish too (issue 15)."""

import re

import pytest
from django.core import mail
from django.utils import timezone

from booking.models import TreatmentPlan
from notifications import dispatch as dispatcher
from notifications import sms
from notifications.models import Notification
from tests.e2e.test_patient_booking import check, open_clinic  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("isolated_cache")]


@pytest.fixture
def spanish_phone(browser):
    """A 390 px phone whose browser asks for Mexican Spanish (Accept-Language: es-MX)."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, locale="es-MX"
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_a_spanish_speaking_patient_books_a_course_and_hears_back_in_spanish(
    live_server,
    spanish_phone,
    open_clinic,  # noqa: F811 (the fixture imported above)
    settings,
):
    settings.SMS_BACKEND = "notifications.sms.MemorySMSBackend"
    sms.MemorySMSBackend.outbox.clear()
    phone = spanish_phone
    phone.goto(live_server.url + "/book/")
    assert phone.locator("html").get_attribute("lang") == "es"
    check(phone)
    phone.get_by_role("link", name=re.compile("Microneedling")).click()
    phone.wait_for_url(re.compile("/times/"))
    check(phone)
    phone.locator("#week button.slot").first.click()

    phone.wait_for_url(re.compile("/book/screening/"))
    check(phone)
    for radio in phone.get_by_role("radio", name="No").all():
        radio.click()
    phone.get_by_role("button", name="Continuar").click()

    phone.wait_for_url(re.compile("/book/review/"))
    assert "Nada hoy" in phone.locator("#due-today").inner_text()
    phone.get_by_label("Número de sesiones").select_option("4")
    phone.get_by_role("button", name="Reservar ya las 4 sesiones").wait_for()
    check(phone)
    assert "Total del tratamiento" in phone.locator("#course-total").inner_text()
    assert phone.locator("label[for=id_first_name]").inner_text().startswith("Nombre")
    phone.locator("#id_first_name").fill("Lucía")
    phone.get_by_label("Apellidos").fill("Guerrero")
    phone.locator("#id_email").fill("lucia@example.com")
    phone.get_by_label("Teléfono").fill("+1 404 555 0142")
    phone.get_by_label("Fecha de nacimiento").fill("1990-06-02")
    phone.get_by_label("Envíame recordatorios por SMS").check()
    phone.get_by_role("button", name="Reservar ya las 4 sesiones").click()

    phone.wait_for_url(re.compile("/book/done/"))
    check(phone)
    assert phone.get_by_role("heading", name="¡Tu cita está reservada!").is_visible()

    plan = TreatmentPlan.objects.get(patient__email="lucia@example.com")
    assert plan.patient.language == "es"
    assert plan.appointments.filter(status="booked").count() == 4
    # The emailed link that confirms the address is in Spanish ...
    assert "Hola" in mail.outbox[-1].body
    # ... and so are the course confirmation email and SMS the dispatcher sends.
    dispatcher.dispatch_due(clock=timezone.now, budget_seconds=30)
    confirmation = next(m for m in mail.outbox if m.subject == "Tu cita está reservada")
    assert "Tu tratamiento de Microneedling está reservado, 4 citas" in confirmation.body
    # No SMS at night: the confirmation text waits for the morning in Atlanta.
    text = Notification.objects.get(patient=plan.patient, kind="confirmation", channel="sms")
    dispatcher.dispatch_due(clock=lambda: text.due_at, budget_seconds=30)
    texts = [message.body for message in sms.MemorySMSBackend.outbox]
    assert any("tus 4 citas en" in text and "BAJA" in text for text in texts), texts
