"""Every URL that carries an object id, tried by everyone who must not reach the object.

The patterns come from the URL resolver itself, so a new page with an `<int:...>` id is in
the matrix the day it is added (and fails here until it is given an owner below). The
objects belong to patient A, whose visit is with aesthetician A. Patient B, aesthetician B,
the front desk (on patient-only pages), aesthetician A (on front-desk pages), the front desk
before its two-step code and anonymous visitors send GET and POST: each must be refused
(sign-in or two-step redirect, 401, 403, 404 or 405), see nothing of patient A, and change
nothing.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter

from booking import services
from booking.models import Appointment, TreatmentPlan, WaitlistEntry
from notifications.models import CallBackRequest, Notification
from payments import services as payments
from payments.models import Payment
from photos.models import Photo
from tests import factories
from tests.consent_helpers import consent_form, sign_version
from tests.helpers import NEW_YORK, sign_in
from tests.photo_helpers import add_photo
from treatments.money import Money

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=NEW_YORK)
SECRET_NAME = "Quartermaine"  # patient A's surname: must never show to anyone else
ROLES = (
    "patient_a",
    "patient_b",
    "aesthetician_a",
    "aesthetician_b",
    "front_desk",
    "front_desk_without_code",  # the password given, the two-step code not yet
    "anonymous",
)
REFUSED = {401, 403, 404, 405}

# Which object each route's id names, by the first matching piece of its route.
OBJECTS = {
    "pay/visit/": "appointment",  # the card-on-file page names the visit, not a payment
    "appointments/": "appointment",
    "visits/": "appointment",
    "book/done/": "appointment",
    "patients/": "patient",
    "plans/": "plan",
    "waitlist/": "waitlist",
    "messages/": "notification",
    "photos/": "photo",
    "call-backs/": "call_back",
    "consents/": "consent",
    "pay/": "payment",
    "payments/": "payment",
}


def owners(route: str) -> set[str]:
    """Who may reach patient A's object through `route`."""
    if route.startswith(("api/v1/", "consents/")):
        return {"patient_a", "aesthetician_a", "front_desk"}
    if route.startswith(("staff/visits/", "staff/photos/", "staff/plans/<int:pk>/progress/")):
        return {"aesthetician_a", "front_desk"}
    if route.startswith("staff/"):
        return {"front_desk"}
    if route.startswith(("my/", "book/", "pay/")):
        return {"patient_a"}
    raise AssertionError(f"{route}: say who may open it in tests/test_access_matrix.py")


def _id_routes(patterns, prefix="", namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _id_routes(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            continue
        converters = getattr(pattern.pattern, "converters", {})
        ids = [name for name, c in converters.items() if isinstance(c, IntConverter)]
        if ids and pattern.name and not (prefix + str(pattern.pattern)).startswith("admin/"):
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield prefix + str(pattern.pattern), name, ids


ID_ROUTES = sorted(set((r, n, tuple(i)) for r, n, i in _id_routes(get_resolver().url_patterns)))


def object_kind(route: str) -> str:
    for piece, kind in OBJECTS.items():
        if piece in route:
            return kind
    raise AssertionError(f"{route}: say which object its id names in OBJECTS")


@pytest.fixture(autouse=True)
def sessions_outlive_time_travel(settings):
    settings.SESSION_COOKIE_AGE = 60 * 60 * 24 * 365 * 20


@pytest.fixture
def world(clinic, front_desk, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    patient_a = factories.PatientFactory(
        first_name="Zebedee", last_name=SECRET_NAME, user__username="patient-a"
    )
    patient_b = factories.PatientFactory(user__username="patient-b")
    other = factories.ProviderFactory(
        locations=[clinic["location"]], treatments=[clinic["treatment"]]
    )
    start = datetime(2027, 3, 2, 10, 0, tzinfo=NEW_YORK)
    appointment = services.book_appointment(
        patient=patient_a,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=start,
        now=NOW,
        provider=clinic["provider"],
    )
    plan = TreatmentPlan.objects.create(
        patient=patient_a,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_date=date(2027, 3, 2),
    )
    waiting = WaitlistEntry.objects.create(
        patient=patient_a,
        treatment=clinic["treatment"],
        location=clinic["location"],
        earliest_date=date(2027, 3, 3),
        latest_date=date(2027, 3, 20),
    )
    message = Notification.objects.create(
        key="access-matrix",
        kind=Notification.Kind.CONFIRMATION,
        channel=Notification.Channel.EMAIL,
        patient=patient_a,
        appointment=appointment,
        due_at=NOW,
        status=Notification.Status.FAILED,
    )
    photo = add_photo(appointment, now=start + timedelta(hours=1))
    call_back = CallBackRequest.objects.create(
        patient=patient_a, appointment=appointment, phone=patient_a.phone, requested_at=NOW
    )
    consent = sign_version(
        consent_form(clinic["treatment"], now=NOW), patient_a, now=NOW, appointment=appointment
    )
    payment = payments.record_payment(
        appointment=appointment,
        kind=Payment.Kind.SESSION,
        method=Payment.Method.CASH,
        money=Money(Decimal("175.50"), "USD"),
        actor=front_desk,
        now=NOW,
    )
    return {
        "users": {
            "patient_a": patient_a.user,
            "patient_b": patient_b.user,
            "aesthetician_a": clinic["provider"].user,
            "aesthetician_b": other.user,
            "front_desk": front_desk,
            "front_desk_without_code": front_desk,
            "anonymous": None,
        },
        "ids": {
            "appointment": appointment.pk,
            "patient": patient_a.pk,
            "plan": plan.pk,
            "waitlist": waiting.pk,
            "notification": message.pk,
            "photo": photo.pk,
            "call_back": call_back.pk,
            "consent": consent.pk,
            "payment": payment.pk,
        },
    }


def snapshot(world) -> tuple:
    ids = world["ids"]
    return (
        Appointment.objects.filter(pk=ids["appointment"]).values_list("status", "start").get(),
        Appointment.objects.filter(patient_id=ids["patient"]).count(),
        TreatmentPlan.objects.filter(pk=ids["plan"]).values_list("status", "sessions").get(),
        WaitlistEntry.objects.filter(pk=ids["waitlist"]).values_list("status").get(),
        Notification.objects.filter(pk=ids["notification"]).values_list("status").get(),
        Photo.objects.filter(pk=ids["photo"]).values_list("shareable").get(),
        Photo.objects.filter(patient_id=ids["patient"]).count(),
        CallBackRequest.objects.filter(pk=ids["call_back"]).values_list("called_back_at").get(),
        Payment.objects.filter(pk=ids["payment"]).values_list("state", "refunded").get(),
        factories.PatientFactory._meta.model.objects.filter(pk=ids["patient"])
        .values_list("first_name", "last_name", "email", "phone", "notes")
        .get(),
    )


def send(client, world, role, method, url):
    client.logout()
    user = world["users"][role]
    if role.endswith("_without_code"):
        client.force_login(user)
    elif user is not None:
        sign_in(client, user)
    with time_machine.travel(NOW, tick=False):
        return getattr(client, method)(url, {"reason": "x", "start": "2027-03-03T10:00"})


def url_for(world, route, name, ids) -> str:
    pk = world["ids"][object_kind(route)]
    return reverse(name, kwargs=dict.fromkeys(ids, pk))


def test_every_id_route_is_in_the_matrix():
    assert len(ID_ROUTES) >= 10
    for route, _, _ in ID_ROUTES:
        owners(route)
        object_kind(route)


@pytest.mark.parametrize(("route", "name", "ids"), ID_ROUTES, ids=[r[0] for r in ID_ROUTES])
def test_nobody_else_reaches_patient_as_objects(client, world, route, name, ids):
    url = url_for(world, route, name, ids)
    before = snapshot(world)
    leaks = []
    for role in sorted(set(ROLES) - owners(route)):
        for method in ("get", "post"):
            response = send(client, world, role, method, url)
            status = response.status_code
            to_sign_in = status == 302 and response["Location"].startswith(
                (reverse("login"), "/admin/login/", "/accounts/two-factor/")
            )
            if not (status in REFUSED or to_sign_in):
                leaks.append(f"{role} {method.upper()} {url} -> {status}")
            elif SECRET_NAME.encode() in response.content:
                leaks.append(f"{role} {method.upper()} {url} shows patient A")

    assert leaks == []
    assert snapshot(world) == before


@pytest.mark.parametrize(("route", "name", "ids"), ID_ROUTES, ids=[r[0] for r in ID_ROUTES])
def test_the_owners_do_reach_it(client, world, route, name, ids):
    """So the refusals above are about who asks, not about a wrong id. (An owner may still be
    refused for another reason, e.g. the front desk correcting a chart.)"""
    url = url_for(world, route, name, ids)
    answers = {role: send(client, world, role, "get", url).status_code for role in owners(route)}
    assert set(answers.values()) - {401, 403, 404}, answers
