"""A patient pays a deposit on a phone through Stripe Elements, served by localstripe's
Stripe.js: the card goes from the browser to the (local) Stripe server, our server charges
the card Stripe says was saved, and the page shows the deposit paid."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from payments import services
from payments.models import Charge, Payment, PaymentPolicy
from tests import factories
from tests.e2e.conftest import axe_violations
from tests.e2e.test_patient_booking import sign_in
from tests.helpers import book

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("isolated_cache")]


def test_a_patient_pays_the_deposit_with_stripe_elements(
    live_server, phone, clinic, stripe_backend
):
    location = clinic["location"]
    PaymentPolicy.objects.create(
        location=location, deposit=Charge.PERCENT, deposit_value=Decimal(20)
    )
    now = timezone.now()
    day = (now + timedelta(days=3)).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    start = datetime.combine(day, time(10), tzinfo=location.zone)
    patient = factories.PatientFactory()
    appointment = book(clinic, patient, start, now)
    payment = services.start_deposit(appointment=appointment, now=now, backend=stripe_backend)
    assert payment is not None

    sign_in(phone, live_server.url, patient.user.username)
    phone.goto(f"{live_server.url}/pay/{payment.pk}/")
    assert "Pay your deposit" in phone.content()
    assert not axe_violations(phone)
    phone.get_by_placeholder("number").fill("4242424242424242")
    phone.get_by_placeholder("exp_month").fill("12")
    phone.get_by_placeholder("exp_year").fill("34")
    phone.get_by_placeholder("cvc").fill("123")
    phone.get_by_placeholder("postal_code").fill("30305")
    phone.get_by_role("button", name="Pay $70.00").click()

    phone.get_by_text("Paid, thank you.").wait_for()
    payment.refresh_from_db()
    assert payment.state == Payment.State.SUCCEEDED
    intent = stripe_backend.client.v1.payment_intents.retrieve(payment.backend_id)
    assert (intent.status, intent.amount) == ("succeeded", 7000)
