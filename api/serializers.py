"""Request and response serializers of the JSON API, named as the OpenAPI schema names them.

Requests are validated here (shapes, ranges, "this aesthetician does not offer this treatment
here"); the rules of booking itself stay in booking.services. Responses show times in the
location's wall-clock time with its UTC offset.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from api.fields import DayField, DayOrInstantField, IdField, InstantField, SlugLookupField
from booking.models import Appointment, Location, Provider, TreatmentPlan
from treatments.models import Protocol, ScreeningRule, Treatment

MAX_AVAILABILITY_DAYS = 92


# Input --------------------------------------------------------------------------------------


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
        max_length=100,  # a treatment asks a handful; the service allows one per question
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
    pay = serializers.ChoiceField(
        choices=[
            ("sessions", "session by session (each visit's deposit, if its terms ask one)"),
            ("course", "the whole course now, at the course price"),
        ],
        default="sessions",
        required=False,
        help_text="A patient booking for themselves: pay the course up front online "
        "(`course`), or session by session (`sessions`, the default). Ignored for the front "
        "desk and when online payments are off (the course is paid at the clinic).",
    )

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
    group = serializers.ChoiceField(
        choices=[
            ("provider", "one slot per start and aesthetician"),
            ("time", "one entry per distinct start, with the aestheticians free then"),
        ],
        default="provider",
        required=False,
        help_text=(
            "`provider` (default): `slots`, one per start and aesthetician. `time`: `times`, "
            "one per distinct start with the ids of the aestheticians free then, and "
            "`providers` naming them."
        ),
    )

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


class StatusSerializer(serializers.Serializer):
    """A status change by staff; `reason` is recorded (and needed to complete a visit that has
    no valid consent)."""

    status = serializers.ChoiceField(
        choices=[
            Appointment.Status.CONFIRMED,
            Appointment.Status.CHECKED_IN,
            Appointment.Status.NO_SHOW,
            Appointment.Status.COMPLETED,
        ]
    )
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
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="This device or app, as the token list shows it (default: its User-Agent).",
    )
    code = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text="For accounts with two-step sign-in (all staff): the 6-digit code from the "
        "authenticator app, or a recovery code.",
    )


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
            "country",
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
    """The answer with ?group=provider (the default)."""

    slots = SlotSerializer(many=True)


class FreeTimeSerializer(serializers.Serializer):
    """Documents a distinct free start; the view builds these as plain dicts for speed."""

    start = InstantField()
    end = InstantField()
    providers = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids of the aestheticians free then, ascending; see `providers` for names.",
    )


class ProviderNameSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AvailabilityByTimeSerializer(serializers.Serializer):
    """The answer with ?group=time."""

    times = FreeTimeSerializer(many=True)
    providers = ProviderNameSerializer(
        many=True, help_text="Every aesthetician who appears in `times`, in display order."
    )


class PlannedSessionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["initial", "maintenance"])
    earliest = serializers.DateField()
    target = serializers.DateField()
    latest = serializers.DateField()
    proposed = SlotSerializer(allow_null=True)


class PlanPreviewSerializer(serializers.Serializer):
    sessions = PlannedSessionSerializer(many=True)


def appointment_rows():
    """Appointments with the rows AppointmentSerializer reads, so a list is one query."""
    return Appointment.objects.select_related("treatment", "location", "provider", "patient")


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
        return AppointmentSerializer(appointment_rows().filter(plan=plan), many=True).data


class MoneySerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=10, decimal_places=2, coerce_to_string=True, help_text='e.g. "70.00".'
    )
    currency = serializers.CharField(help_text="ISO 4217, e.g. USD.")


class PaymentDueSerializer(serializers.Serializer):
    """What a patient's own booking still owes online, before `due_by`; after it, the
    visits it holds are let go. Pay with Stripe.js: `stripe.confirmCardPayment(client_secret)`
    (3-D Secure included), or open `pay_url` in a browser; a card to keep on file is saved on
    `pay_url`. The booking counts as paid when Stripe tells our server (its webhook), never
    on the client's word."""

    kind = serializers.ChoiceField(
        choices=[("deposit", "deposit"), ("course", "course"), ("card", "card")],
        help_text="`deposit` of the first visit, `course` paid up front, or `card` to keep "
        "on file (nothing charged now).",
    )
    payment = serializers.IntegerField(allow_null=True, help_text="null for `card`.")
    amount = MoneySerializer(allow_null=True, help_text="null for `card`.")
    client_secret = serializers.CharField(
        allow_blank=True, help_text="The PaymentIntent's client secret; empty for `card`."
    )
    publishable_key = serializers.CharField(help_text="For Stripe.js.")
    pay_url = serializers.URLField(help_text="The patient's pay (or card) page.")
    due_by = serializers.DateTimeField(help_text="UTC instant the time is held until.")


class BookedAppointmentSerializer(AppointmentSerializer):
    payment_due = serializers.SerializerMethodField()

    class Meta(AppointmentSerializer.Meta):
        fields = [*AppointmentSerializer.Meta.fields, "payment_due"]

    @extend_schema_field(PaymentDueSerializer(allow_null=True))
    def get_payment_due(self, appointment) -> dict | None:
        return self.context.get("payment_due")


class BookedPlanSerializer(PlanSerializer):
    payment_due = serializers.SerializerMethodField()

    class Meta(PlanSerializer.Meta):
        fields = [*PlanSerializer.Meta.fields, "payment_due"]

    @extend_schema_field(PaymentDueSerializer(allow_null=True))
    def get_payment_due(self, plan) -> dict | None:
        return self.context.get("payment_due")


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Shown only now: the server keeps a digest.")
    key = serializers.CharField(help_text="Its first characters, naming it in the token list.")
    name = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)


class ApiTokenSerializer(serializers.Serializer):
    key = serializers.CharField(source="token_key", help_text="DELETE auth/tokens/{key}/.")
    name = serializers.SerializerMethodField(help_text="The device or app it was made for.")
    created = serializers.DateTimeField()
    expiry = serializers.DateTimeField(allow_null=True)
    current = serializers.SerializerMethodField(help_text="The token of this request.")

    def get_name(self, token) -> str:
        device = getattr(token, "device", None)  # none for a token made in the admin
        return device.name if device is not None else ""

    def get_current(self, token) -> bool:
        return token.digest == self.context.get("current")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ConflictSerializer(ErrorSerializer):
    session = serializers.IntegerField(
        required=False, help_text="The course session that could not be placed."
    )


# A 400 names each field it refuses, with its messages ({"start": ["..."]}; a list of
# objects for a list field such as `screening`), or says what is wrong in `detail`.
INVALID_INPUT = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {"type": "array", "items": {}},
}


def error_responses(*codes: int) -> dict:
    """The documented error responses of an operation, for extend_schema(responses=...)."""
    described = {
        400: 'Invalid input: {"field": ["..."]} or {"detail": "..."}.',
        401: "Not signed in.",
        403: "Signed in, but not allowed.",
        404: "No such record, or not yours.",
        409: "The time is taken, the visit is inside the cancellation notice, the health "
        "questions need answers, or a session of the plan could not be placed (`session`).",
        429: "Too many requests of this kind; the Retry-After header says how many seconds "
        "to wait.",
    }
    bodies = {400: INVALID_INPUT, 409: ConflictSerializer}
    return {
        code: OpenApiResponse(bodies.get(code, ErrorSerializer), description=described[code])
        for code in codes
    }
