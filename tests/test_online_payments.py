"""What a patient's own booking owes online, through every patient door (the web flow and
the API) and only those: a deposit, a whole course paid up front, or a card on file, held
for PAYMENT_HOLD_MINUTES and then let go with every visit booked with it. Against
localstripe; the staff doors book with nothing asked online."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from booking import services as booking_services
from booking.models import Appointment
from notifications.models import Notification
from payments import courses, services
from payments.models import Charge, Payment, PaymentPolicy
from tests import factories
from tests.helpers import (
    at,
    book,
    captured_on_backend,
    card_method,
    deliver,
    sign_in,
    stripe_events,
)
from treatments.money import Money

pytestmark = pytest.mark.usefixtures("isolated_cache")

API = "/api/v1"
TUESDAY = date(2027, 3, 2)
SECRET = "whsec_test_skinclinic"


@pytest.fixture
def policy(location):
    """A 20% deposit ($70.00 of $350.00) and 10% off a course paid up front."""
    return PaymentPolicy.objects.create(
        location=location,
        deposit=Charge.PERCENT,
        deposit_value=Decimal(20),
        course_discount_percent=Decimal(10),
        late_cancel_fee=Charge.FIXED,
        late_cancel_fee_value=Decimal(50),
    )


@pytest.fixture
def card_policy(location):
    return PaymentPolicy.objects.create(location=location, card_on_file_required=True)


def api_for(user) -> APIClient:
    client = APIClient()
    sign_in(client, user)
    return client


def body(clinic, **extra) -> dict:
    return {
        "treatment": clinic["treatment"].slug,
        "location": clinic["location"].slug,
        "start": at(TUESDAY, 10).isoformat(),
        **extra,
    }


def pay_in_browser(backend, payment_id: str, number="4242424242424242"):
    """What Stripe.js does with the client secret: attach a card and confirm the intent."""
    method = card_method(backend, number)
    backend.client.v1.payment_intents.update(payment_id, params={"payment_method": method})
    return backend.client.v1.payment_intents.confirm(payment_id)


# The API door --------------------------------------------------------------------------------


def test_a_patient_booking_through_the_api_is_told_the_deposit_and_pays_it(
    clinic, patient, policy, stripe_backend, frozen, settings
):
    settings.PAYMENT_HOLD_MINUTES = 10
    response = api_for(patient.user).post(f"{API}/appointments/", body(clinic), format="json")

    assert response.status_code == 201
    due = response.json()["payment_due"]
    payment = Payment.objects.get(appointment_id=response.json()["id"])
    assert due["kind"] == "deposit" and due["payment"] == payment.pk
    assert due["amount"] == {"amount": "70.00", "currency": "USD"}
    assert due["client_secret"] == payment.client_secret != ""
    assert due["pay_url"].endswith(f"/pay/{payment.pk}/")
    assert due["due_by"] == "2027-03-01T13:10:00Z"
    intent = stripe_backend.client.v1.payment_intents.retrieve(payment.backend_id)
    assert (intent.amount, intent.client_secret) == (7000, due["client_secret"])

    pay_in_browser(stripe_backend, payment.backend_id)
    services.settle_from_backend(payment, now=frozen, backend=stripe_backend)

    payment.refresh_from_db()
    assert payment.state == Payment.State.SUCCEEDED
    assert services.release_unpaid(now=frozen + timedelta(minutes=11)) == 0
    assert Appointment.objects.get().status == Appointment.Status.BOOKED


def test_an_api_booking_left_unpaid_is_let_go_after_the_hold(
    clinic, patient, policy, stripe_backend, frozen, settings
):
    settings.PAYMENT_HOLD_MINUTES = 10
    response = api_for(patient.user).post(f"{API}/appointments/", body(clinic), format="json")
    assert response.json()["payment_due"]["kind"] == "deposit"

    assert services.release_unpaid(now=frozen + timedelta(minutes=5)) == 0
    assert services.release_unpaid(now=frozen + timedelta(minutes=11)) == 1

    visit = Appointment.objects.get()
    assert visit.status == Appointment.Status.CANCELLED
    assert visit.cancellation_reason == "The deposit was not paid in time."
    assert Payment.objects.get().state == Payment.State.CANCELLED


def test_the_front_desk_books_through_the_api_with_nothing_asked_online(
    clinic, patient, front_desk, policy, stripe_backend, frozen
):
    policy.card_on_file_required = True
    policy.save()
    client = api_for(front_desk)

    visit = client.post(f"{API}/appointments/", body(clinic, patient=patient.pk), format="json")
    plan = client.post(
        f"{API}/plans/",
        body(clinic, patient=patient.pk, sessions=3, start=at(TUESDAY, 13).isoformat()),
        format="json",
    )

    assert visit.status_code == plan.status_code == 201
    assert visit.json()["payment_due"] is None and plan.json()["payment_due"] is None
    assert not Payment.objects.exists()
    assert services.release_unpaid(now=frozen + timedelta(hours=1)) == 0


def test_a_patient_pays_a_course_up_front_through_the_api(
    clinic, patient, policy, stripe_backend, frozen
):
    response = api_for(patient.user).post(
        f"{API}/plans/", body(clinic, sessions=4, pay="course"), format="json"
    )

    assert response.status_code == 201
    due = response.json()["payment_due"]
    assert due["kind"] == "course"
    assert due["amount"] == {"amount": "1260.00", "currency": "USD"}  # 4 x $350.00 less 10%
    course = Payment.objects.get(pk=due["payment"])
    assert course.plan_id == response.json()["id"] and course.state == Payment.State.PENDING
    # The first visit's deposit is replaced by the course, not charged as well.
    assert not Payment.objects.filter(kind=Payment.Kind.DEPOSIT).exclude(state="cancelled")

    pay_in_browser(stripe_backend, course.backend_id)
    services.settle_from_backend(course, now=frozen, backend=stripe_backend)

    left = courses.balance(course.plan)
    assert left is not None and left.paid.amount == Decimal("1260.00")
    assert (left.remaining_sessions, left.sessions) == (4, 4)
    assert captured_on_backend(stripe_backend, [course.backend_id]) == 126000


def test_the_signed_webhook_alone_makes_the_course_prepaid(
    client, clinic, patient, policy, stripe_backend, now
):
    plan = booking_services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=4,
        first_start=at(TUESDAY, 10),
        now=now,
    )
    due = services.online_due(
        appointment=plan.appointments.order_by("start").first(), now=now, pay_course=True
    )
    assert due is not None and due.payment is not None
    pay_in_browser(stripe_backend, due.payment.backend_id)
    assert courses.balance(plan) is None  # the browser's word counts for nothing

    [event] = [
        e
        for e in stripe_events(stripe_backend, due.payment.backend_id)
        if e["type"] == "payment_intent.succeeded"
    ]
    assert deliver(client, event, SECRET).status_code == 200
    assert deliver(client, event, SECRET).content == b"already seen"

    left = courses.balance(plan)
    assert left is not None and left.paid == Money(Decimal("1260.00"), "USD")
    assert Payment.objects.get(pk=due.payment.pk).state == Payment.State.SUCCEEDED


def test_a_course_paid_after_its_visits_were_let_go_is_refunded(
    clinic, patient, policy, stripe_backend, now
):
    plan = booking_services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=at(TUESDAY, 10),
        now=now,
    )
    course = services.sell_course(
        plan=plan, method=Payment.Method.ONLINE, actor=None, now=now, backend=stripe_backend
    )
    for visit in plan.appointments.all():
        booking_services.cancel_appointment(appointment=visit, now=now, staff=True)

    pay_in_browser(stripe_backend, course.backend_id)
    course = services.settle_from_backend(course, now=now, backend=stripe_backend)

    assert course.state == Payment.State.REFUNDED
    assert captured_on_backend(stripe_backend, [course.backend_id]) == 0


def test_a_course_sold_at_the_desk_withdraws_the_online_payment_waiting(
    clinic, patient, front_desk, policy, stripe_backend, now
):
    plan = booking_services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=at(TUESDAY, 10),
        now=now,
    )
    online = services.sell_course(
        plan=plan, method=Payment.Method.ONLINE, actor=None, now=now, backend=stripe_backend
    )

    desk = services.sell_course(
        plan=plan, method=Payment.Method.CASH, actor=front_desk, now=now, backend=stripe_backend
    )

    online.refresh_from_db()
    assert online.state == Payment.State.CANCELLED
    intent = stripe_backend.client.v1.payment_intents.retrieve(online.backend_id)
    assert intent.status == "canceled"
    assert courses.course_payment(plan) == desk
    assert services.ledger_total(Payment.objects.filter(plan=plan)) == Decimal("945.00")


def test_a_card_due_through_the_api_lets_the_whole_course_go_without_one(
    clinic, patient, card_policy, stripe_backend, frozen, settings
):
    settings.PAYMENT_HOLD_MINUTES = 10
    response = api_for(patient.user).post(f"{API}/plans/", body(clinic, sessions=3), format="json")

    due = response.json()["payment_due"]
    first = response.json()["appointments"][0]["id"]
    assert due["kind"] == "card" and due["payment"] is None and due["amount"] is None
    assert due["pay_url"].endswith(f"/pay/visit/{first}/card-on-file/")

    assert services.release_unpaid(now=frozen + timedelta(minutes=11)) == 3
    assert set(Appointment.objects.values_list("status", flat=True)) == {"cancelled"}


def test_the_schema_documents_what_is_due(client, db):
    schema = client.get(f"{API}/schema/?format=json").json()

    due = schema["components"]["schemas"]["PaymentDue"]["properties"]
    assert {"kind", "payment", "amount", "client_secret", "pay_url", "due_by"} <= set(due)
    assert "payment_due" in schema["components"]["schemas"]["BookedPlan"]["properties"]
    assert "payment_due" in schema["components"]["schemas"]["BookedAppointment"]["properties"]


# Every visit of a course booked at once --------------------------------------------------------


def test_every_visit_of_a_cardless_course_is_let_go(
    clinic, patient, card_policy, stripe_backend, now, settings
):
    settings.PAYMENT_HOLD_MINUTES = 10
    plan = booking_services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=at(TUESDAY, 10),
        now=now,
    )
    # A visit booked a minute later on its own is not part of that hold.
    later = book(clinic, factories.PatientFactory(), at(TUESDAY, 13), now + timedelta(minutes=1))

    assert services.release_unpaid(now=now + timedelta(minutes=5)) == 0
    assert services.release_unpaid(now=now + timedelta(minutes=11)) == 3

    statuses = set(plan.appointments.values_list("status", "cancellation_reason"))
    assert statuses == {("cancelled", "No card was saved in time.")}
    later.refresh_from_db()
    assert later.status == Appointment.Status.BOOKED  # its own card is due a minute later
    assert services.release_unpaid(now=now + timedelta(minutes=12)) == 1


def test_a_saved_card_keeps_every_visit_of_the_course(
    clinic, patient, card_policy, stripe_backend, now, settings
):
    settings.PAYMENT_HOLD_MINUTES = 10
    plan = booking_services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=at(TUESDAY, 10),
        now=now,
    )
    services.save_card(
        patient=patient, method_id=card_method(stripe_backend), now=now, backend=stripe_backend
    )

    assert services.release_unpaid(now=now + timedelta(minutes=11)) == 0
    assert plan.appointments.active().count() == 3


def test_an_unpaid_deposit_lets_every_visit_of_its_course_go(
    clinic, patient, policy, stripe_backend, now, settings
):
    settings.PAYMENT_HOLD_MINUTES = 10
    plan = booking_services.book_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=at(TUESDAY, 10),
        now=now,
    )
    # Only the first visit asks for a deposit: one for the course booked at once.
    assert Payment.objects.get().appointment == plan.appointments.order_by("start").first()

    assert services.release_unpaid(now=now + timedelta(minutes=11)) == 3
    assert not plan.appointments.active().exists()


# The web flow -------------------------------------------------------------------------------


def review_course(client, clinic, rules, sessions=4):
    client.post(
        reverse("book_times", args=[clinic["treatment"].slug, clinic["location"].slug])
        + "?with=any",
        {"start": at(TUESDAY, 10).isoformat()},
    )
    client.post(reverse("book_screening"), {f"q_{rule.code}": "no" for rule in rules})
    return client.get(reverse("book_review") + f"?sessions={sessions}")


def test_the_review_offers_the_course_now_or_session_by_session(
    signed_in, clinic, policy, stripe_backend, screening_rules
):
    page = review_course(signed_in, clinic, screening_rules).content.decode()

    assert "Pay for the course now: $1,260.00" in page
    assert "You save $140.00" in page
    assert "Pay session by session" in page and "A deposit of $70.00 now" in page
    assert "A deposit of $70.00, or the whole course if you choose to pay it now" in page


def test_paying_the_course_now_goes_to_the_pay_page_for_the_course(
    signed_in, patient, clinic, policy, stripe_backend, screening_rules
):
    review_course(signed_in, clinic, screening_rules)

    response = signed_in.post(
        reverse("book_review"), {"choice": "all", "sessions": "4", "pay": "course"}
    )

    course = Payment.objects.get(kind=Payment.Kind.COURSE)
    assert response.status_code == 302 and response["Location"] == f"/pay/{course.pk}/"
    assert course.money.amount == Decimal("1260.00") and course.plan.sessions == 4
    page = signed_in.get(response["Location"]).content.decode()
    assert "Pay for your course" in page and "4 sessions paid up front, $1,260.00." in page
    assert "Pay $1,260.00" in page


def test_paying_session_by_session_asks_the_first_deposit(
    signed_in, clinic, policy, stripe_backend, screening_rules
):
    review_course(signed_in, clinic, screening_rules)

    response = signed_in.post(
        reverse("book_review"), {"choice": "all", "sessions": "4", "pay": "sessions"}
    )

    deposit = Payment.objects.get()
    assert deposit.kind == Payment.Kind.DEPOSIT and deposit.money.amount == Decimal("70.00")
    assert response["Location"] == f"/pay/{deposit.pk}/"


def test_a_course_not_paid_in_time_lets_every_visit_go(
    signed_in, clinic, policy, stripe_backend, screening_rules, frozen, settings
):
    settings.PAYMENT_HOLD_MINUTES = 10
    review_course(signed_in, clinic, screening_rules)
    signed_in.post(reverse("book_review"), {"choice": "all", "sessions": "4", "pay": "course"})

    assert services.release_unpaid(now=frozen + timedelta(minutes=11)) == 4

    assert not Appointment.objects.active().exists()
    assert Payment.objects.get(kind=Payment.Kind.COURSE).state == Payment.State.CANCELLED


def test_offline_the_course_is_booked_to_pay_at_the_clinic(
    signed_in, patient, clinic, policy, screening_rules
):
    page = review_course(signed_in, clinic, screening_rules).content.decode()
    assert "Online payments are off: the course is booked and you pay at the clinic." in page
    assert "Pay for the course now" not in page

    response = signed_in.post(
        reverse("book_review"), {"choice": "all", "sessions": "4", "pay": "course"}
    )

    visit = Appointment.objects.order_by("start").first()
    assert response["Location"] == reverse("book_done", args=[visit.pk])
    assert Appointment.objects.active().count() == 4 and not Payment.objects.exists()


def test_a_new_patient_reaches_their_own_pay_page_before_confirming_their_email(
    client, clinic, policy, stripe_backend, screening_rules
):
    """The pay page lets in the new patient this browser just booked for, and no one else."""
    review_course(client, clinic, screening_rules)
    details = {
        "first_name": "Ana",
        "last_name": "Ruiz",
        "email": "ana@example.com",
        "phone": "+1 404 555 0199",
        "date_of_birth": "1990-04-05",
        "email_consent": "on",
    }

    response = client.post(
        reverse("book_review"), {"choice": "all", "sessions": "4", "pay": "course", **details}
    )

    course = Payment.objects.get(kind=Payment.Kind.COURSE)
    assert response["Location"] == f"/pay/{course.pk}/"
    assert client.get(response["Location"]).status_code == 200
    stranger = client.__class__().get(response["Location"])
    assert stranger.status_code == 302 and "login" in stranger["Location"]


# "Email a receipt", twice ---------------------------------------------------------------------


def test_a_double_click_on_email_a_receipt_queues_one_copy(
    client, clinic, patient, front_desk, now, frozen
):
    visit = book(clinic, patient, at(TUESDAY, 10), now, staff=True)
    payment = services.record_payment(
        appointment=visit,
        kind=Payment.Kind.SESSION,
        method=Payment.Method.CASH,
        money=Money(Decimal("350.00"), "USD"),
        actor=front_desk,
        now=now,
    )
    sign_in(client, front_desk)
    url = reverse("email_receipt", args=[payment.pk])

    with time_machine.travel(now + timedelta(seconds=1), tick=False):
        first = client.post(url, follow=True).content.decode()
    with time_machine.travel(now + timedelta(seconds=2), tick=False):
        second = client.post(url, follow=True).content.decode()

    copies = Notification.objects.filter(key__startswith=f"receipt:payment:{payment.pk}:copy:")
    assert copies.count() == 1
    assert "A receipt is on its way" in first
    assert "A copy of this receipt was sent a moment ago." in second

    with time_machine.travel(now + timedelta(minutes=2), tick=False):
        client.post(url)
    assert copies.count() == 2  # asked again later: a new copy


@pytest.mark.django_db(transaction=True)
def test_two_desks_emailing_one_receipt_at_once_queue_one_copy(clinic, patient, front_desk, now):
    visit = book(clinic, patient, at(TUESDAY, 10), now, staff=True)
    payment = services.record_payment(
        appointment=visit,
        kind=Payment.Kind.SESSION,
        method=Payment.Method.CASH,
        money=Money(Decimal("350.00"), "USD"),
        actor=front_desk,
        now=now,
    )
    ready = threading.Barrier(2)
    outcomes: list[str] = []

    def press(instant):
        try:
            ready.wait()
            services.email_receipt(payment=payment, actor=front_desk, now=instant)
            outcomes.append("queued")
        except services.PaymentRefused as error:
            outcomes.append(error.message)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=press, args=(now + timedelta(milliseconds=ms),)) for ms in (1, 2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["A copy of this receipt was sent a moment ago.", "queued"]
    copies = Notification.objects.filter(key__startswith=f"receipt:payment:{payment.pk}:copy:")
    assert copies.count() == 1
