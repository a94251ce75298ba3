"""The versioned JSON API under /api/v1/: treatments, locations, free times, plans, bookings.

Views are thin: a serializer validates the input, a service in booking.services does the work
with `now=timezone.now()`, and `exception_handler` turns a services.BookingError into its
status code (400, or 409 for a taken time) with `{"detail": "..."}`. Times go out as ISO 8601
in the location's wall-clock time with its UTC offset (2027-03-02T10:00:00-05:00); times come
in the same way and must carry an offset.
"""

from datetime import date, datetime, timedelta

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import slug_re
from django.db.models import Q
from django.http import JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from booking import availability, queries, roles, services
from booking.models import (
    Appointment,
    Location,
    Patient,
    Provider,
    ScreeningAnswer,
    TreatmentPlan,
)
from treatments.models import Protocol, ScreeningRule, Treatment

MAX_AVAILABILITY_DAYS = 92
STAFF_LIST_DAYS = 14
MAX_ID = 2**63 - 1  # ids beyond a bigint are refused before they reach the database
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999  # far enough apart, and far from datetime's limits


def exception_handler(exc, context):
    """DRF's handler, plus booking errors (400/409) and Django's ValidationError (400)."""
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
    return drf_exception_handler(exc, context)


def not_found(request, *args, **kwargs):
    """Any other address under /api/v1/ (including ids that are not numbers): a JSON 404."""
    return JsonResponse({"detail": "There is nothing at this address in the API."}, status=404)


def is_desk(user) -> bool:
    """Front desk staff (the group or a superuser) act for any patient. Django's is_staff only
    opens the admin: an aesthetician with admin access is still an aesthetician here."""
    return roles.is_front_desk(user)


# Input fields ------------------------------------------------------------------------------


def _check_year(field: serializers.Field, value: date | datetime) -> None:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        field.fail("out_of_range")


class DayField(serializers.DateField):
    """A calendar day, YYYY-MM-DD."""

    default_error_messages = {
        "invalid": "Give a date as YYYY-MM-DD, e.g. 2027-03-02.",
        "out_of_range": f"Give a date between {EARLIEST_YEAR} and {LATEST_YEAR}.",
    }

    def __init__(self, **kwargs):
        super().__init__(input_formats=["iso-8601"], **kwargs)

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        _check_year(self, day)
        return day


class InstantField(serializers.DateTimeField):
    """An ISO 8601 date and time with its UTC offset; a time without one is refused, since
    the clinic cannot guess which zone it was meant in. Output keeps the offset it has."""

    default_error_messages = {
        "invalid": "Give an ISO 8601 date and time with its UTC offset, "
        "e.g. 2027-03-02T10:00:00-05:00.",
        "naive": "Give the time with its UTC offset, e.g. 2027-03-02T10:00:00-05:00.",
        "out_of_range": f"Give a time between {EARLIEST_YEAR} and {LATEST_YEAR}.",
    }

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid")
        try:
            instant = parse_datetime(value.strip())
        except ValueError:  # well formed but impossible, e.g. Feb 30 or a +25:00 offset
            instant = None
        if instant is None:
            self.fail("invalid")
        if instant.tzinfo is None:
            self.fail("naive")
        _check_year(self, instant)
        return instant

    def to_representation(self, value):
        return value.isoformat()


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "format": "date"},
            {"type": "string", "format": "date-time"},
        ]
    }
)
class DayOrInstantField(InstantField):
    """A day to find the first free time in (YYYY-MM-DD), or an exact time with its offset."""

    def to_internal_value(self, value):
        if isinstance(value, str) and len(value.strip()) == len("YYYY-MM-DD"):
            try:
                day = parse_date(value.strip())
            except ValueError:
                day = None
            if day is None:
                self.fail("invalid")
            _check_year(self, day)
            return day
        return super().to_internal_value(value)


class SlugLookupField(serializers.SlugRelatedField):
    """A row named by its slug. Text that cannot be a slug is refused without a query."""

    def __init__(self, noun: str, **kwargs):
        kwargs.setdefault("slug_field", "slug")
        kwargs.setdefault(
            "error_messages", {"does_not_exist": f"There is no {noun} called “{{value}}”."}
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or len(data) > 50 or not slug_re.match(data):
            self.fail("does_not_exist", slug_name=self.slug_field, value=str(data)[:50])
        return super().to_internal_value(data)


class IdField(serializers.IntegerField):
    """A database id: a positive whole number."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


class ScreeningAnswerSerializer(serializers.Serializer):
    code = serializers.SlugField(help_text="The screening question's code.")
    yes = serializers.BooleanField()
    last_occurred = DayField(required=False, allow_null=True, help_text="For look-back questions.")


class BookingRequestSerializer(serializers.Serializer):
    treatment = SlugLookupField("treatment", queryset=Treatment.objects.active())
    location = SlugLookupField("location", queryset=Location.objects.all())
    provider = IdField(
        required=False, allow_null=True, help_text="An aesthetician's id; leave out for anyone."
    )
    screening = ScreeningAnswerSerializer(
        many=True,
        required=False,
        help_text="Today's answers to the treatment's health questions (patients must give "
        "them before every visit; see GET /api/v1/treatments/ for the questions).",
    )

    def validate(self, attrs):
        provider_id = attrs.pop("provider", None)
        attrs["provider"] = None
        if provider_id is not None:
            attrs["provider"] = (
                Provider.objects.performing(attrs["treatment"], attrs["location"])
                .filter(pk=provider_id)
                .first()
            )
            if attrs["provider"] is None:
                raise serializers.ValidationError(
                    {"provider": ["This aesthetician does not offer this treatment here."]}
                )
        return attrs


class PlanRequestSerializer(BookingRequestSerializer):
    start = DayOrInstantField(
        help_text="The first visit: a day (YYYY-MM-DD) to find a time in, or an exact time."
    )
    sessions = serializers.IntegerField(
        required=False, min_value=1, max_value=50, help_text="Defaults to the protocol's."
    )
    patient = IdField(required=False, help_text="Front desk only: the patient to book for.")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        protocol = attrs["treatment"].protocol_or_none
        if protocol is None:
            raise serializers.ValidationError(
                {"treatment": ["This treatment is a single visit, not a course of sessions."]}
            )
        attrs.setdefault("sessions", protocol.default_sessions)
        return attrs


class AppointmentRequestSerializer(BookingRequestSerializer):
    start = InstantField()
    patient = IdField(required=False, help_text="Front desk only: the patient to book for.")


class AvailabilityQuerySerializer(serializers.Serializer):
    treatment = SlugLookupField("treatment", queryset=Treatment.objects.active())
    location = SlugLookupField("location", queryset=Location.objects.all())
    start = DayField(help_text="First local day, YYYY-MM-DD.")
    end = DayField(help_text=f"Last local day (included), at most {MAX_AVAILABILITY_DAYS} days.")
    provider = IdField(required=False, help_text="Only this aesthetician.")

    def validate(self, attrs):
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": ["The end date is before the start date."]})
        if (attrs["end"] - attrs["start"]).days + 1 > MAX_AVAILABILITY_DAYS:
            raise serializers.ValidationError(
                {"end": [f"Ask for at most {MAX_AVAILABILITY_DAYS} days at a time."]}
            )
        return attrs


class AppointmentFilterSerializer(serializers.Serializer):
    date = DayField(required=False, help_text="Visits on this local day.")
    patient = IdField(required=False, help_text="Visits of this patient.")


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class RescheduleSerializer(serializers.Serializer):
    start = InstantField()
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        default="",
        help_text="Front desk: why a session moves outside its window.",
    )


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


# Output -------------------------------------------------------------------------------------


class ProtocolSerializer(serializers.ModelSerializer):
    maintenance_offsets_months = serializers.ListField(child=serializers.IntegerField())
    describe = serializers.CharField(help_text="The protocol in plain words.")

    class Meta:
        model = Protocol
        fields = [
            "min_sessions",
            "default_sessions",
            "max_sessions",
            "interval_min_days",
            "interval_max_days",
            "maintenance_offsets_months",
            "maintenance_window_days",
            "describe",
        ]


class ScreeningQuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScreeningRule
        fields = ["code", "question", "lookback_days"]


class TreatmentSerializer(serializers.ModelSerializer):
    visit_minutes = serializers.IntegerField(help_text="Numbing plus treatment.")
    protocol = ProtocolSerializer(source="protocol_or_none", allow_null=True)
    screening = ScreeningQuestionSerializer(
        source="screening_rules",
        many=True,
        help_text="Health questions a patient answers (with the booking) before every visit.",
    )

    class Meta:
        model = Treatment
        fields = [
            "slug",
            "name",
            "summary",
            "description",
            "duration_minutes",
            "numbing_minutes",
            "cleanup_minutes",
            "visit_minutes",
            "price",
            "is_consultation",
            "protocol",
            "screening",
        ]


class LocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = [
            "slug",
            "name",
            "time_zone",
            "address",
            "phone",
            "email",
            "cancellation_notice_hours",
            "min_notice_minutes",
            "booking_horizon_days",
        ]


class SlotSerializer(serializers.Serializer):
    """Documents a free time; the view builds these as plain dicts for speed."""

    start = InstantField()
    end = InstantField()
    provider = serializers.IntegerField()
    provider_name = serializers.CharField()


class AvailabilitySerializer(serializers.Serializer):
    slots = SlotSerializer(many=True)


class PlannedSessionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["initial", "maintenance"])
    earliest = serializers.DateField()
    target = serializers.DateField()
    latest = serializers.DateField()
    proposed = SlotSerializer(allow_null=True)


class PlanPreviewSerializer(serializers.Serializer):
    sessions = PlannedSessionSerializer(many=True)


class AppointmentSerializer(serializers.ModelSerializer):
    treatment = serializers.SlugField(source="treatment.slug")
    treatment_name = serializers.CharField(source="treatment.name")
    location = serializers.SlugField(source="location.slug")
    provider = serializers.IntegerField(source="provider_id")
    provider_name = serializers.CharField(source="provider.display_name")
    patient = serializers.IntegerField(source="patient_id")
    start = InstantField(source="local_start")
    end = InstantField(source="local_end")
    plan = serializers.IntegerField(source="plan_id", allow_null=True)

    class Meta:
        model = Appointment
        fields = [
            "id",
            "treatment",
            "treatment_name",
            "location",
            "provider",
            "provider_name",
            "patient",
            "start",
            "end",
            "status",
            "kind",
            "plan",
            "session_number",
        ]


class PlanSerializer(serializers.ModelSerializer):
    treatment = serializers.SlugField(source="treatment.slug")
    location = serializers.SlugField(source="location.slug")
    provider = serializers.IntegerField(source="provider_id", allow_null=True)
    patient = serializers.IntegerField(source="patient_id")
    appointments = serializers.SerializerMethodField()

    class Meta:
        model = TreatmentPlan
        fields = [
            "id",
            "treatment",
            "location",
            "provider",
            "patient",
            "sessions",
            "first_date",
            "status",
            "appointments",
        ]

    @extend_schema_field(AppointmentSerializer(many=True))
    def get_appointments(self, plan):
        return AppointmentSerializer(_appointments().filter(plan=plan), many=True).data


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


def _errors(*codes: int) -> dict:
    described = {
        400: 'Invalid input: {"field": ["..."]} or {"detail": "..."}.',
        401: "Not signed in.",
        403: "Signed in, but not allowed.",
        404: "No such record, or not yours.",
        409: "The time is taken, or a session of the plan could not be placed.",
    }
    return {code: OpenApiResponse(ErrorSerializer, description=described[code]) for code in codes}


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
    responses={200: AvailabilitySerializer, **_errors(400)},
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def availability_list(request):
    """Free times for a treatment at a location, ordered by start. Same number of queries
    whatever the number of aestheticians, days or appointments."""
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
        raise serializers.ValidationError(
            {"provider": ["This aesthetician does not offer this treatment here."]}
        )
    slots = schedules.free_slots(
        params["start"],
        params["end"],
        now=timezone.now(),
    )
    return Response({"slots": _slots_json(slots, schedules.provider_names)})


def _slots_json(slots: list[availability.Slot], names: dict[int, str]) -> list[dict]:
    """Plain dicts; slots that share a start share its datetime, so each is formatted once."""
    result = []
    append = result.append
    previous = None
    start = end = ""
    for slot in slots:
        if slot.start is not previous:
            previous = slot.start
            start, end = slot.start.isoformat(), slot.end.isoformat()
        append(
            {
                "start": start,
                "end": end,
                "provider": slot.provider_id,
                "provider_name": names[slot.provider_id],
            }
        )
    return result


@extend_schema(
    request=TokenRequestSerializer,
    responses={200: TokenSerializer, **_errors(400)},
    auth=[],
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
def obtain_token(request):
    """Exchange a username and password for an API token (send it as `Authorization: Token …`)."""
    body = TokenRequestSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    user = authenticate(
        request._request,
        username=body.validated_data["username"],
        password=body.validated_data["password"],
    )
    if user is None:
        return Response(
            {"detail": "That username and password do not match an account."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    token, _ = Token.objects.get_or_create(user=user)
    return Response({"token": token.key})


@extend_schema(
    request=PlanRequestSerializer,
    responses={200: PlanPreviewSerializer, **_errors(400)},
)
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
    responses={201: PlanSerializer, **_errors(400, 401, 403, 409)},
)
@api_view(["POST"])
def plan_create(request):
    """Book every initial session of a course, or none (409 names the session that could not
    be placed). Front desk pass `patient`; patients book for themselves."""
    desk = is_desk(request.user)
    own = None if desk else _own_patient(request.user)
    body = PlanRequestSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    data = body.validated_data
    if own is not None:
        _screen_own_booking(own, data, timezone.now())
    plan = services.book_plan(
        patient=_patient_to_book_for(data.get("patient"), desk=desk, own=own),
        treatment=data["treatment"],
        location=data["location"],
        sessions=data["sessions"],
        first_start=data["start"],
        now=timezone.now(),
        provider=data["provider"],
        booked_by=request.user,
        staff=desk,
    )
    return Response(PlanSerializer(plan).data, status=status.HTTP_201_CREATED)


def _own_patient(user) -> Patient:
    patient = roles.patient_of(user)
    if patient is None:
        raise PermissionDenied(
            "This account has no patient record, so it cannot book. Please call the clinic."
        )
    return patient


def _patient_to_book_for(patient_id: int | None, *, desk: bool, own: Patient | None) -> Patient:
    if not desk:
        if patient_id is not None and patient_id != own.pk:
            raise PermissionDenied("Only the front desk can book for another patient.")
        return own
    if patient_id is None:
        raise serializers.ValidationError({"patient": ["Say which patient this booking is for."]})
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise serializers.ValidationError({"patient": [f"There is no patient {patient_id}."]})
    return patient


def _appointments():
    return Appointment.objects.select_related("treatment", "location", "provider", "patient")


def visible_appointments(user):
    """Front desk see every visit; an aesthetician sees the visits they give; a patient sees
    their own. Anything else is a 404, not a 403, so ids of others' visits reveal nothing."""
    if is_desk(user):
        return _appointments()
    mine = Q(patient__user=user)
    if roles.is_aesthetician(user):
        mine |= Q(provider__user=user)
    return _appointments().filter(mine)


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
    responses={200: AppointmentSerializer(many=True), **_errors(400, 401)},
    description="A patient's own visits; an aesthetician's and the front desk's for `date`, "
    f"for `patient`, or else the next {STAFF_LIST_DAYS} days.",
)
@extend_schema(
    methods=["POST"],
    request=AppointmentRequestSerializer,
    responses={201: AppointmentSerializer, **_errors(400, 401, 403, 409)},
    description="Book one visit. Leave out `provider` for the first aesthetician free then. "
    "Front desk pass `patient` and may book any time inside working hours.",
)
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


def _screen_own_booking(patient: Patient, data: dict, now) -> None:
    """A patient's own booking: store the answers sent with it, then the screening decides."""
    rules = {rule.code: rule for rule in data["treatment"].screening_rules.all()}
    ScreeningAnswer.objects.bulk_create(
        ScreeningAnswer(
            patient=patient,
            rule=rules[answer["code"]],
            yes=answer["yes"],
            last_occurred=answer.get("last_occurred"),
            answered_at=now,
        )
        for answer in data.get("screening", [])
        if answer["code"] in rules
    )
    services.check_screening(
        patient=patient, treatment=data["treatment"], location=data["location"], now=now
    )


def _book_appointment(request):
    desk = is_desk(request.user)
    own = None if desk else _own_patient(request.user)
    body = AppointmentRequestSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    data = body.validated_data
    now = timezone.now()
    if own is not None:
        _screen_own_booking(own, data, now)
    appointment = services.book_appointment(
        patient=_patient_to_book_for(data.get("patient"), desk=desk, own=own),
        treatment=data["treatment"],
        location=data["location"],
        start=data["start"],
        now=now,
        provider=data["provider"],
        booked_by=request.user,
        staff=desk,
    )
    return Response(
        AppointmentSerializer(_appointments().get(pk=appointment.pk)).data,
        status=status.HTTP_201_CREATED,
    )


def _visible_appointment(user, pk: int) -> Appointment:
    appointment = visible_appointments(user).filter(pk=pk).first() if pk <= MAX_ID else None
    if appointment is None:
        raise NotFound("There is no such appointment for you.")
    return appointment


def _changeable_appointment(user, pk: int) -> Appointment:
    """A visit the user may move or cancel: their own, or any for the front desk."""
    appointment = _visible_appointment(user, pk)
    if not is_desk(user) and appointment.patient.user_id != user.pk:
        raise PermissionDenied("Please ask the front desk to move or cancel a patient's visit.")
    return appointment


@extend_schema(responses={200: AppointmentSerializer, **_errors(401, 404)})
@api_view(["GET"])
def appointment_detail(request, pk: int):
    return Response(AppointmentSerializer(_visible_appointment(request.user, pk)).data)


@extend_schema(
    request=CancelSerializer,
    responses={200: AppointmentSerializer, **_errors(400, 401, 403, 404)},
)
@api_view(["POST"])
def appointment_cancel(request, pk: int):
    """Cancel a visit; inside the location's notice it counts as a late cancellation."""
    appointment = _changeable_appointment(request.user, pk)
    body = CancelSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    if not is_desk(request.user):
        services.check_online_notice(appointment, now=timezone.now())
    services.cancel_appointment(
        appointment=appointment,
        now=timezone.now(),
        actor=request.user,
        reason=body.validated_data["reason"],
    )
    return Response(AppointmentSerializer(_appointments().get(pk=pk)).data)


@extend_schema(
    request=RescheduleSerializer,
    responses={200: AppointmentSerializer, **_errors(400, 401, 403, 404, 409)},
)
@api_view(["POST"])
def appointment_reschedule(request, pk: int):
    """Move a visit. A course session stays inside its window; the front desk may move it out
    with a `reason`."""
    appointment = _changeable_appointment(request.user, pk)
    body = RescheduleSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    if not is_desk(request.user):
        services.check_online_notice(appointment, now=timezone.now())
    services.reschedule_appointment(
        appointment=appointment,
        start=body.validated_data["start"],
        now=timezone.now(),
        actor=request.user,
        staff=is_desk(request.user),
        reason=body.validated_data["reason"],
    )
    return Response(AppointmentSerializer(_appointments().get(pk=pk)).data)
