"""The versioned JSON API under /api/v1/: treatments, locations, free times, plans, bookings.

Views are thin: a serializer validates the input, a service in booking.services does the work
with `now=timezone.now()`, and `exception_handler` turns a services.BookingError into its
status code (400, or 409 for a taken time) with `{"detail": "..."}`. Times go out as ISO 8601
in the location's wall-clock time with its UTC offset (2027-03-02T10:00:00-05:00); times come
in the same way and must carry an offset.

Input fields are in api/fields.py, request and response serializers in api/serializers.py,
and who acts for whom and sees which visits in api/permissions.py.
"""

from datetime import date, datetime, timedelta

import orjson
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from knox.auth import TokenAuthentication
from rest_framework import status
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.exceptions import NotFound, PermissionDenied, Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from accounts import roles, tokens, two_factor
from accounts.ratelimit import SignInAttempt
from api.permissions import (
    changeable_appointment,
    is_desk,
    own_patient,
    patient_to_book_for,
    staff_appointment,
    visible_appointment,
    visible_appointments,
)
from api.serializers import (
    ApiTokenSerializer,
    AppointmentFilterSerializer,
    AppointmentRequestSerializer,
    AppointmentSerializer,
    AvailabilityByTimeSerializer,
    AvailabilityQuerySerializer,
    AvailabilitySerializer,
    BookedAppointmentSerializer,
    BookedPlanSerializer,
    CancelSerializer,
    LocationSerializer,
    PlanPreviewSerializer,
    PlanRequestSerializer,
    RescheduleSerializer,
    StatusSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    TreatmentSerializer,
    appointment_rows,
    error_responses,
)
from api.throttles import throttled
from booking import availability, queries, services
from booking.models import Location, Provider
from payments import services as payments
from treatments import screening
from treatments.models import Treatment

STAFF_LIST_DAYS = 14


def exception_handler(exc, context):
    """DRF's handler, plus booking errors (400/409) and Django's ValidationError (400);
    a throttled request gets a reason in words besides its Retry-After header."""
    if isinstance(exc, services.BookingError):
        set_rollback()
        body = {"detail": exc.message}
        if isinstance(exc, services.SessionNotPlaced):
            body["session"] = exc.session_number
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        set_rollback()
        if hasattr(exc, "error_dict"):
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if isinstance(exc, Throttled) and response is not None:
        minutes = max(1, -(-int(exc.wait or 60) // 60))
        what = getattr(context.get("view"), "throttle_scope", None) or "requests"
        response.data = {
            "detail": f"Too many {what} requests from you. Try again in {minutes} minutes."
        }
    return response


@csrf_exempt  # it changes nothing, so an unknown POST gets this JSON 404, not a CSRF page
def not_found(request, *args, **kwargs):
    """Any other address under /api/v1/, by any method (including ids that are not numbers):
    a JSON 404."""
    return JsonResponse({"detail": "There is nothing at this address in the API."}, status=404)


# Views ----------------------------------------------------------------------------------------


@extend_schema(responses=TreatmentSerializer(many=True))
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def treatment_list(request):
    """Treatments on offer, with their timings, prices and protocol (null for single visits)."""
    treatments = (
        Treatment.objects.active().select_related("protocol").prefetch_related("screening_rules")
    )
    return Response(TreatmentSerializer(treatments, many=True).data)


@extend_schema(responses=LocationSerializer(many=True))
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def location_list(request):
    """The clinic's locations with their time zones and contact details."""
    return Response(LocationSerializer(Location.objects.all(), many=True).data)


@extend_schema(
    parameters=[AvailabilityQuerySerializer],
    responses={
        200: PolymorphicProxySerializer(
            component_name="AvailabilityAnswer",
            serializers=[AvailabilitySerializer, AvailabilityByTimeSerializer],
            resource_type_field_name=None,
        ),
        **error_responses(400),
    },
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def availability_list(request):
    """Free times for a treatment at a location, ordered by start: one slot per start and
    aesthetician, or with `group=time` each distinct start with the aestheticians free then.
    Same number of queries whatever the number of aestheticians, days or appointments."""
    query = AvailabilityQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    params = query.validated_data
    provider_id = params.get("provider")
    schedules = queries.load_schedules(
        treatment=params["treatment"],
        location=params["location"],
        first_day=params["start"],
        last_day=params["end"],
        provider_ids=None if provider_id is None else [provider_id],
    )
    if provider_id is not None and schedules.provider(provider_id) is None:
        raise ValidationError(
            {"provider": ["This aesthetician does not offer this treatment here."]}
        )
    times = schedules.free_times(params["start"], params["end"], now=timezone.now())
    if params["group"] == "time":
        body = _times_json(times, schedules.provider_names)
    else:
        body = {"slots": _slots_json(times, schedules.provider_names)}
    # Thousands of plain dicts: orjson, not a serializer and the JSON renderer.
    return HttpResponse(orjson.dumps(body), content_type="application/json")


def _slots_json(times: list[availability.FreeTime], names: dict[int, str]) -> list[dict]:
    """One dict per (start, aesthetician), each start formatted once."""
    result = []
    append = result.append
    for free in times:
        start, end = free.start.isoformat(), free.end.isoformat()
        for provider_id in free.provider_ids:
            append(
                {
                    "start": start,
                    "end": end,
                    "provider": provider_id,
                    "provider_name": names[provider_id],
                }
            )
    return result


def _times_json(times: list[availability.FreeTime], names: dict[int, str]) -> dict:
    seen: set[int] = set()
    for free in times:
        seen.update(free.provider_ids)
    return {
        "times": [
            {
                "start": free.start.isoformat(),
                "end": free.end.isoformat(),
                "providers": free.provider_ids,
            }
            for free in times
        ],
        "providers": [{"id": pk, "name": name} for pk, name in names.items() if pk in seen],
    }


@extend_schema(
    request=TokenRequestSerializer,
    responses={
        200: TokenSerializer,
        **error_responses(400, 403),
        429: OpenApiResponse(
            error_responses(429)[429].response,
            description="Too many failed sign-ins for the account or from the address, or "
            "too many token requests.",
        ),
    },
    auth=[],
)
@throttled("token")
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
def obtain_token(request):
    """Exchange a username and password for a token for this device, valid for a limited time
    (`expiry`); send it as `Authorization: Token …`. Only its first characters (`key`) are
    kept readable; POST auth/logout/ with it to revoke it."""
    body = TokenRequestSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    username = body.validated_data["username"]
    attempt = SignInAttempt(request, username)
    if attempt.refused():
        return attempt.too_many(request)
    user = authenticate(
        request._request, username=username, password=body.validated_data["password"]
    )
    if user is None:
        return Response(
            {"detail": "That username and password do not match an account."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    problem = two_factor.token_refusal(user, body.validated_data.get("code", ""))
    if problem:  # still counted as a failed sign-in: a code is guessed like a password
        return Response({"detail": problem}, status=status.HTTP_400_BAD_REQUEST)
    attempt.succeeded()
    name = body.validated_data.get("name") or request.META.get("HTTP_USER_AGENT", "")
    try:
        token, secret = tokens.issue_token(user, name=name)
    except tokens.TooManyTokens as exc:
        raise PermissionDenied(str(exc)) from None
    user_logged_in.send(sender=type(user), request=request._request, user=user)
    return Response(
        {"token": secret, "key": token.token_key, "name": token.device.name, "expiry": token.expiry}
    )


@extend_schema(request=None, responses={204: None, **error_responses(401)})
@api_view(["POST"])
@authentication_classes([TokenAuthentication])
def logout(request):
    """Revoke the token this request was made with."""
    request.auth.delete()
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(request=None, responses={204: None, **error_responses(401)})
@api_view(["POST"])
def logout_all(request):
    """Revoke every token of the account (sign out of every device)."""
    tokens.revoke_all_tokens(request.user)
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(responses={200: ApiTokenSerializer(many=True), **error_responses(401)})
@api_view(["GET"])
def token_list(request):
    """The account's live tokens, one per device, newest first (the tokens themselves are not
    stored, only their first characters)."""
    current = getattr(request.auth, "digest", None)
    return Response(
        ApiTokenSerializer(
            tokens.live_tokens(request.user), many=True, context={"current": current}
        ).data
    )


@extend_schema(responses={204: None, **error_responses(401, 404)})
@api_view(["DELETE"])
def token_revoke(request, key: str):
    """Revoke one of the account's tokens, named by its `key`."""
    if not tokens.revoke_token(request.user, key):
        raise NotFound("You have no token with that key.")
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    request=PlanRequestSerializer,
    responses={200: PlanPreviewSerializer, **error_responses(400, 429)},
)
@throttled("plans")
@api_view(["POST"])
@permission_classes([AllowAny])
def plan_preview(request):
    """The sessions a course would have, each with its window and a proposed time (null when
    nothing is free). Maintenance sessions are listed with their windows only."""
    body = PlanRequestSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    data = body.validated_data
    proposals = services.propose_plan(
        treatment=data["treatment"],
        location=data["location"],
        sessions=data["sessions"],
        first_start=data["start"],
        now=timezone.now(),
        provider=data["provider"],
        staff=is_desk(request.user),
    )
    provider_ids = {p.slot.provider_id for p in proposals if p.slot is not None}
    names = dict(Provider.objects.filter(pk__in=provider_ids).values_list("pk", "display_name"))
    return Response({"sessions": [_proposal_json(p, names) for p in proposals]})


def _proposal_json(proposal: services.Proposal, names: dict[int, str]) -> dict:
    session, slot = proposal.session, proposal.slot
    return {
        "number": session.number,
        "kind": session.kind,
        "earliest": session.earliest.isoformat(),
        "target": session.target.isoformat(),
        "latest": session.latest.isoformat(),
        "proposed": None
        if slot is None
        else {
            "start": slot.start.isoformat(),
            "end": slot.end.isoformat(),
            "provider": slot.provider_id,
            "provider_name": names.get(slot.provider_id, ""),
        },
    }


@extend_schema(
    request=PlanRequestSerializer,
    responses={201: BookedPlanSerializer, **error_responses(400, 401, 403, 409, 429)},
)
@throttled("plans")
@api_view(["POST"])
def plan_create(request):
    """Book every initial session of a course, or none (409 names the session that could not
    be placed). Front desk pass `patient`; patients book for themselves, and `payment_due`
    says what their terms ask online (a deposit, the course with `pay=course`, or a card on
    file) and until when the time is held; null when nothing is due online."""
    desk = is_desk(request.user)
    own = None if desk else own_patient(request.user)
    body = PlanRequestSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    data = body.validated_data
    plan = services.book_plan(
        patient=patient_to_book_for(data.get("patient"), desk=desk, own=own),
        treatment=data["treatment"],
        location=data["location"],
        sessions=data["sessions"],
        first_start=data["start"],
        now=timezone.now(),
        provider=data["provider"],
        booked_by=request.user,
        staff=desk,
        screening_answers=None if desk else _answers(data),
    )
    first = plan.appointments.order_by("start").first()
    due = None
    if not desk and first is not None:
        due = _payment_due(request, first, pay_course=data["pay"] == "course")
    return Response(
        BookedPlanSerializer(plan, context={"payment_due": due}).data,
        status=status.HTTP_201_CREATED,
    )


def _payment_due(request, appointment, *, pay_course: bool = False) -> dict | None:
    """The JSON of what the patient's own booking owes online (payments.services), or None."""
    due = payments.online_due(appointment=appointment, now=timezone.now(), pay_course=pay_course)
    if due is None:
        return None
    if due.payment is None:
        url = reverse("keep_card", args=[appointment.pk])
    else:
        url = reverse("pay", args=[due.payment.pk])
    return {
        "kind": due.kind,
        "payment": due.payment.pk if due.payment else None,
        "amount": None
        if due.amount is None
        else {"amount": f"{due.amount.amount:.2f}", "currency": due.amount.currency},
        "client_secret": due.client_secret,
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "pay_url": request.build_absolute_uri(url),
        "due_by": due.due_by,
    }


def _on_local_day(day: date) -> Q:
    """Visits that start on `day` on their own location's calendar."""
    on_day = Q(pk__in=[])
    for location in Location.objects.only("pk", "time_zone"):
        start = datetime.combine(day, datetime.min.time(), tzinfo=location.zone)
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=location.zone)
        on_day |= Q(location_id=location.pk, start__gte=start, start__lt=end)
    return on_day


@extend_schema(
    methods=["GET"],
    parameters=[AppointmentFilterSerializer],
    responses={200: AppointmentSerializer(many=True), **error_responses(400, 401)},
    description="A patient's own visits; an aesthetician's and the front desk's for `date`, "
    f"for `patient`, or else the next {STAFF_LIST_DAYS} days.",
)
@extend_schema(
    methods=["POST"],
    request=AppointmentRequestSerializer,
    responses={201: BookedAppointmentSerializer, **error_responses(400, 401, 403, 409, 429)},
    description="Book one visit. Leave out `provider` for the first aesthetician free then. "
    "Front desk pass `patient` and may book any time inside working hours. A patient's own "
    "booking answers with `payment_due`: the deposit or card on file its terms ask online, "
    "held until `due_by` (then the visit is let go); null when nothing is due online.",
)
@throttled("bookings")
@api_view(["GET", "POST"])
def appointment_list(request):
    if request.method == "POST":
        return _book_appointment(request)
    query = AppointmentFilterSerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    params = query.validated_data
    appointments = visible_appointments(request.user)
    if "patient" in params:
        appointments = appointments.filter(patient_id=params["patient"])
    if "date" in params:
        appointments = appointments.filter(_on_local_day(params["date"]))
    elif "patient" not in params and (is_desk(request.user) or roles.is_aesthetician(request.user)):
        now = timezone.now()
        appointments = appointments.filter(
            start__gte=now - timedelta(hours=12), start__lt=now + timedelta(days=STAFF_LIST_DAYS)
        )
    return Response(AppointmentSerializer(appointments.order_by("start"), many=True).data)


def _answers(data: dict) -> list[screening.Answer] | None:
    """The screening answers sent with a booking, for the service to validate and judge;
    None when none were sent (then today's stored answers count)."""
    if "screening" not in data:
        return None
    return [
        screening.Answer(a["code"], a["yes"], a.get("last_occurred")) for a in data["screening"]
    ]


def _book_appointment(request):
    desk = is_desk(request.user)
    own = None if desk else own_patient(request.user)
    body = AppointmentRequestSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    data = body.validated_data
    now = timezone.now()
    appointment = services.book_appointment(
        patient=patient_to_book_for(data.get("patient"), desk=desk, own=own),
        treatment=data["treatment"],
        location=data["location"],
        start=data["start"],
        now=now,
        provider=data["provider"],
        booked_by=request.user,
        staff=desk,
        screening_answers=None if desk else _answers(data),
    )
    due = None if desk else _payment_due(request, appointment)
    return Response(
        BookedAppointmentSerializer(
            appointment_rows().get(pk=appointment.pk), context={"payment_due": due}
        ).data,
        status=status.HTTP_201_CREATED,
    )


@extend_schema(responses={200: AppointmentSerializer, **error_responses(401, 404)})
@api_view(["GET"])
def appointment_detail(request, pk: int):
    return Response(AppointmentSerializer(visible_appointment(request.user, pk)).data)


@extend_schema(
    request=CancelSerializer,
    responses={200: AppointmentSerializer, **error_responses(400, 401, 403, 404, 409)},
)
@api_view(["POST"])
def appointment_cancel(request, pk: int):
    """Cancel a visit; inside the location's notice it counts as a late cancellation."""
    appointment = changeable_appointment(request.user, pk)
    body = CancelSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    services.cancel_appointment(
        appointment=appointment,
        now=timezone.now(),
        actor=request.user,
        reason=body.validated_data["reason"],
        staff=is_desk(request.user),
    )
    return Response(AppointmentSerializer(appointment_rows().get(pk=pk)).data)


@extend_schema(
    request=RescheduleSerializer,
    responses={200: AppointmentSerializer, **error_responses(400, 401, 403, 404, 409)},
)
@api_view(["POST"])
def appointment_reschedule(request, pk: int):
    """Move a visit. A course session stays inside its window; the front desk may move it out
    with a `reason`."""
    appointment = changeable_appointment(request.user, pk)
    body = RescheduleSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    services.reschedule_appointment(
        appointment=appointment,
        start=body.validated_data["start"],
        now=timezone.now(),
        actor=request.user,
        staff=is_desk(request.user),
        reason=body.validated_data["reason"],
    )
    return Response(AppointmentSerializer(appointment_rows().get(pk=pk)).data)


@extend_schema(
    request=StatusSerializer,
    responses={200: AppointmentSerializer, **error_responses(400, 401, 403, 404, 409)},
)
@api_view(["POST"])
def appointment_status(request, pk: int):
    """Confirm, check in, mark a no-show or complete a visit (staff). Completing a visit
    without a valid consent needs a `reason`: 409 otherwise."""
    appointment = staff_appointment(request.user, pk)
    body = StatusSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    services.change_status(
        appointment=appointment,
        status=body.validated_data["status"],
        now=timezone.now(),
        actor=request.user,
        reason=body.validated_data["reason"],
    )
    return Response(AppointmentSerializer(appointment_rows().get(pk=pk)).data)
