"""The processor's webhook and the patient's pay pages (a deposit, a course paid up front,
a card kept on file) and "My payments"."""

from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.roles import guest_patient, patient_of
from booking.models import Appointment, Patient
from payments import courses, services
from payments.backends import BackendError, ForgedEvent, get_backend
from payments.models import BookingTerms, Payment, SavedCard


@csrf_exempt  # Stripe signs the body instead; a forged or replayed-tampered body is a 400.
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    backend = get_backend()
    try:
        event = backend.read_event(request.body, request.headers.get("Stripe-Signature", ""))
    except ForgedEvent:
        return HttpResponseBadRequest("The signature does not match this endpoint's secret.")
    if not isinstance(event.get("id"), str):
        return HttpResponseBadRequest("An event needs an id.")
    seen_before = not services.apply_event(event, now=timezone.now(), backend=backend)
    return HttpResponse("already seen" if seen_before else "ok", content_type="text/plain")


class _SignInFirst(Exception):
    pass


def _paying_patient(request: HttpRequest) -> Patient:
    """The signed-in patient, or the new patient this browser just booked for (their account
    waits for its emailed link; payments.flow). Anyone else is asked to sign in."""
    patient = patient_of(request.user)
    if patient is None and not request.user.is_authenticated:
        patient = guest_patient(request)
        if patient is None:
            raise _SignInFirst
    if patient is None:
        raise Http404("No such payment.")
    return patient


def patient_page(view):
    """Like login_required, but also lets in the patient this browser just booked for."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except _SignInFirst:
            return redirect_to_login(request.get_full_path())

    return wrapper


def _own_payment(request: HttpRequest, pk: int) -> Payment:
    return get_object_or_404(
        Payment.objects.select_related("appointment__treatment", "plan__treatment", "location"),
        pk=pk,
        patient=_paying_patient(request),
    )


def _stripe_csp(response: HttpResponse) -> HttpResponse:
    # Stripe.js, its card frame and its API calls come from Stripe (tests: a localstripe).
    stripe_origins = sorted({_origin(settings.STRIPE_JS_URL), _origin(settings.STRIPE_API_BASE)})
    response._csp_update = {  # type: ignore[attr-defined]
        "script-src": stripe_origins,
        "frame-src": stripe_origins,
        "connect-src": stripe_origins,
    }
    return response


@patient_page
def keep_card(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the card the terms ask to keep on file (no deposit due): a SetupIntent that
    Stripe Elements confirms in the browser (static/js/pay.js, its "save" step); our server
    then asks Stripe which card it saved. GET shows the page; POST is the JSON card step."""
    patient = _paying_patient(request)
    appointment = get_object_or_404(
        Appointment.objects.select_related("treatment", "location"), pk=pk, patient=patient
    )
    terms = BookingTerms.objects.filter(appointment=appointment).first()
    card = SavedCard.objects.filter(patient=patient).first()
    if request.method == "POST":
        backend = get_backend()
        step = request.POST.get("step")
        try:
            if step == "setup":
                return JsonResponse({"client_secret": backend.start_card_setup()})
            if step == "save":
                method = backend.card_of_setup(request.POST.get("setup_intent", ""))
                services.save_card(patient=patient, method_id=method, now=timezone.now())
                return JsonResponse({"next": "done"})
        except services.PaymentRefused as error:
            return JsonResponse({"error": error.message}, status=error.status_code)
        except BackendError as error:
            return JsonResponse({"error": str(error)}, status=409)
        return JsonResponse({"error": _("Unknown step.")}, status=400)
    return _stripe_csp(
        render(
            request,
            "payments/keep_card.html",
            {
                "appointment": appointment,
                "terms": terms,
                "card": card,
                "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
                "stripe_js": settings.STRIPE_JS_URL,
            },
        )
    )


@patient_page
def pay(request: HttpRequest, pk: int) -> HttpResponse:
    """The deposit for a visit: Stripe Elements confirms the intent in the browser; the
    page then asks our server, which asks Stripe (`settle_from_backend`)."""
    payment = _own_payment(request, pk)
    if request.GET.get("returned"):
        payment = services.settle_from_backend(payment, now=timezone.now())
    plan = payment.plan if payment.kind == Payment.Kind.COURSE else None
    first = plan.appointments.order_by("start").first() if plan else payment.appointment
    response = render(
        request,
        "payments/pay.html",
        {
            "payment": payment,
            "plan": plan,
            "visit": first,
            "treatment": first.treatment if first else None,
            "hold_until": payment.created_at + timedelta(minutes=settings.PAYMENT_HOLD_MINUTES),
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "stripe_js": settings.STRIPE_JS_URL,
        },
    )
    return _stripe_csp(response)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@patient_page
@require_POST
def pay_card(request: HttpRequest, pk: int) -> HttpResponse:
    """The card step of the deposit page (static/js/pay.js), JSON in and out:
    `step=setup` gives a SetupIntent secret; `step=pay&setup_intent=seti_...` charges the card
    Stripe says that SetupIntent saved. 409 with a message when it cannot."""
    payment = _own_payment(request, pk)
    backend = get_backend()
    step = request.POST.get("step")
    try:
        if payment.state != Payment.State.PENDING:
            raise services.PaymentRefused(_("This payment is already settled."))
        if step == "setup":
            return JsonResponse({"client_secret": backend.start_card_setup()})
        if step == "pay":
            intent = services.pay_pending(
                payment,
                setup_id=request.POST.get("setup_intent", ""),
                now=timezone.now(),
                backend=backend,
            )
            if intent.status == "requires_action":
                return JsonResponse(
                    {"next": "authenticate", "client_secret": payment.client_secret}
                )
            return JsonResponse({"next": "done"})
    except services.PaymentRefused as error:
        return JsonResponse({"error": error.message}, status=error.status_code)
    return JsonResponse({"error": _("Unknown step.")}, status=400)


@never_cache
@login_required
def my_payments(request: HttpRequest) -> HttpResponse:
    """The patient's payments, refunds and card on file (which they may remove)."""
    patient = patient_of(request.user)
    if patient is None:
        raise Http404("No patient record for this account.")
    if request.method == "POST":
        if services.remove_card(patient=patient, now=timezone.now(), actor=request.user):
            messages.success(request, _("Your card is removed."))
        return redirect("my_payments")
    payments = (
        Payment.objects.filter(patient=patient)
        .exclude(state=Payment.State.CANCELLED)
        .select_related("appointment__treatment", "location")
        .prefetch_related("refunds")
        .order_by("-created_at")
    )
    return render(
        request,
        "payments/my_payments.html",
        {
            "payments": payments,
            "card": SavedCard.objects.filter(patient=patient).first(),
            "courses": courses.balances_of(patient),
            "online": get_backend().online,
        },
    )
