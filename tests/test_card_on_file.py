"""Terms that keep a card on file: the patient's online booking ends with a card saved
(a SetupIntent on localstripe), or the visit is let go like an unpaid deposit."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine

from booking.models import Appointment
from payments import flow, services
from payments.models import BookingTerms, Charge, Payment, PaymentPolicy, SavedCard
from tests import factories
from tests.helpers import at, book, card_method, sign_in

TUESDAY = date(2027, 3, 2)


@pytest.fixture
def card_policy(location):
    return PaymentPolicy.objects.create(
        location=location,
        card_on_file_required=True,
        no_show_fee=Charge.FIXED,
        no_show_fee_value=Decimal("75.50"),
    )


def confirm_setup(backend, client_secret: str) -> str:
    """What Stripe.js's confirmCardSetup does in the browser: a card on the SetupIntent."""
    setup_id = client_secret.split("_secret_")[0]
    backend.client.v1.setup_intents.confirm(
        setup_id, params={"payment_method": card_method(backend)}
    )
    return setup_id


def test_the_booking_flow_asks_for_a_card_and_lets_the_visit_go_without_one(
    rf, clinic, patient, now, card_policy, stripe_backend, settings
):
    settings.PAYMENT_HOLD_MINUTES = 10
    appointment = book(clinic, patient, at(TUESDAY, 10), now)

    with time_machine.travel(now, tick=False):
        response = flow.after_booking(rf.post("/book/review/"), [appointment])

    assert response is not None
    assert response.url == f"/pay/visit/{appointment.pk}/card-on-file/"
    assert services.release_unpaid(now=now + timedelta(minutes=5), backend=stripe_backend) == 0
    assert services.release_unpaid(now=now + timedelta(minutes=11), backend=stripe_backend) == 1
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert appointment.cancellation_reason == "No card was saved in time."
    # The time is free again.
    book(clinic, factories.PatientFactory(), at(TUESDAY, 10), now)


def test_a_card_saved_on_the_page_keeps_the_booking(
    client, clinic, patient, now, card_policy, stripe_backend, settings, frozen
):
    settings.PAYMENT_HOLD_MINUTES = 10
    appointment = book(clinic, patient, at(TUESDAY, 10), now)
    assert services.ask_for_card(appointment=appointment, now=now, backend=stripe_backend)
    sign_in(client, patient.user)
    url = f"/pay/visit/{appointment.pk}/card-on-file/"

    page = client.get(url).content.decode()
    assert "Save my card" in page and "Nothing is charged now." in page
    setup = client.post(url, {"step": "setup"}).json()
    setup_id = confirm_setup(stripe_backend, setup["client_secret"])
    saved = client.post(url, {"step": "save", "setup_intent": setup_id})

    assert saved.json() == {"next": "done"}
    assert SavedCard.objects.get(patient=patient).last4 == "4242"
    assert "Your card ending 4242 is on file." in client.get(url).content.decode()
    assert services.release_unpaid(now=now + timedelta(minutes=11), backend=stripe_backend) == 0
    appointment.refresh_from_db()
    assert appointment.is_active


def test_a_setup_the_browser_did_not_finish_saves_nothing(
    client, clinic, patient, now, card_policy, stripe_backend, frozen
):
    appointment = book(clinic, patient, at(TUESDAY, 10), now)
    sign_in(client, patient.user)
    url = f"/pay/visit/{appointment.pk}/card-on-file/"
    setup = client.post(url, {"step": "setup"}).json()

    refused = client.post(
        url, {"step": "save", "setup_intent": setup["client_secret"].split("_secret_")[0]}
    )

    assert refused.status_code == 409
    assert refused.json() == {"error": "The card was not saved; try again."}
    assert not SavedCard.objects.exists()


def test_another_patients_visit_is_not_found(
    client, clinic, patient, now, card_policy, stripe_backend, frozen
):
    appointment = book(clinic, patient, at(TUESDAY, 10), now)
    sign_in(client, factories.PatientFactory().user)

    assert client.get(f"/pay/visit/{appointment.pk}/card-on-file/").status_code == 404


def test_a_patient_with_a_card_on_file_is_not_asked_again(
    rf, clinic, patient, now, card_policy, stripe_backend
):
    services.save_card(
        patient=patient, method_id=card_method(stripe_backend), now=now, backend=stripe_backend
    )
    appointment = book(clinic, patient, at(TUESDAY, 10), now)

    assert not services.ask_for_card(appointment=appointment, now=now, backend=stripe_backend)


def test_offline_the_booking_goes_on_and_nothing_is_let_go(rf, clinic, patient, now, card_policy):
    appointment = book(clinic, patient, at(TUESDAY, 10), now)

    assert flow.after_booking(rf.post("/book/review/"), [appointment]) is None
    assert services.release_unpaid(now=now + timedelta(days=1)) == 0
    assert BookingTerms.objects.get(appointment=appointment).card_due_by is None
    appointment.refresh_from_db()
    assert appointment.is_active


def test_with_a_deposit_the_deposits_card_is_the_one_kept(
    clinic, patient, now, stripe_backend, location
):
    PaymentPolicy.objects.create(
        location=location,
        card_on_file_required=True,
        deposit=Charge.FIXED,
        deposit_value=Decimal("50"),
    )
    appointment = book(clinic, patient, at(TUESDAY, 10), now)
    payment = services.start_deposit(appointment=appointment, now=now, backend=stripe_backend)
    setup_id = confirm_setup(stripe_backend, stripe_backend.start_card_setup())

    services.pay_pending(payment, setup_id=setup_id, now=now, backend=stripe_backend)

    payment.refresh_from_db()
    assert payment.state == Payment.State.SUCCEEDED
    card = SavedCard.objects.get(patient=patient)
    assert card.last4 == "4242"
    intent = stripe_backend.client.v1.payment_intents.retrieve(payment.backend_id)
    assert intent.customer == card.customer_id
