"""Forms of the front desk: they validate what the desk typed and turn local wall-clock
dates and times into instants in the location's zone."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from booking import formats, services
from booking.dates import check_year
from booking.models import Appointment, Location, Patient, Provider, WaitlistEntry
from booking.phones import PhoneField
from treatments.models import Treatment

DATE_INPUT = forms.DateInput(attrs={"type": "date"})
TIME_INPUT = forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M")


def local_instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """``day`` at wall-clock ``clock`` in ``zone``; a time the clocks skip is refused."""
    instant = datetime.combine(day, clock, tzinfo=zone)
    if instant.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != instant.replace(
        tzinfo=None
    ):
        raise forms.ValidationError(
            _("%(time)s does not exist on %(day)s (the clocks go forward). Choose another time.")
            % {"time": f"{clock:%H:%M}", "day": formats.abbr_month_day(day)}
        )
    return instant


class CalendarForm(forms.Form):
    """What the calendar shows. Every field is optional; bad values fall back to defaults."""

    location = forms.ModelChoiceField(
        Location.objects.all(), to_field_name="slug", required=False, empty_label=None
    )
    date = forms.DateField(required=False, widget=DATE_INPUT, validators=[check_year])
    view = forms.ChoiceField(
        choices=[("day", gettext_lazy("Day")), ("week", gettext_lazy("Week"))], required=False
    )
    by = forms.ChoiceField(
        choices=[("provider", gettext_lazy("Aestheticians")), ("room", gettext_lazy("Rooms"))],
        required=False,
    )
    provider = forms.ModelChoiceField(Provider.objects.active(), required=False)


class FreeTimesForm(forms.Form):
    """What the phone booking page lists free times for (GET, no patient details)."""

    location = forms.ModelChoiceField(
        Location.objects.all(), to_field_name="slug", empty_label=None
    )
    treatment = forms.ModelChoiceField(Treatment.objects.active())
    provider = forms.ModelChoiceField(Provider.objects.active(), required=False)
    date = forms.DateField(validators=[check_year])


class _WhenMixin:
    """Turns the ``date`` and ``time`` fields into ``start`` in ``self.location``'s zone."""

    def clean_start(self, cleaned):
        location = self.location_for(cleaned)
        if location and cleaned.get("date") and cleaned.get("time"):
            try:
                cleaned["start"] = local_instant(cleaned["date"], cleaned["time"], location.zone)
            except forms.ValidationError as error:
                self.add_error("time", error)


class PhoneBookingForm(_WhenMixin, forms.Form):
    patient = forms.ModelChoiceField(
        Patient.objects.all(),
        required=False,
        widget=forms.RadioSelect,
        label=gettext_lazy("Patient"),
    )
    first_name = forms.CharField(max_length=60, required=False, label=gettext_lazy("First name"))
    last_name = forms.CharField(max_length=60, required=False, label=gettext_lazy("Last name"))
    phone = PhoneField(required=False, label=gettext_lazy("Phone"))
    email = forms.EmailField(required=False, label=gettext_lazy("Email"))
    treatment = forms.ModelChoiceField(Treatment.objects.active(), label=gettext_lazy("Treatment"))
    location = forms.ModelChoiceField(
        Location.objects.all(),
        to_field_name="slug",
        empty_label=None,
        label=gettext_lazy("Location"),
    )
    provider = forms.ModelChoiceField(
        Provider.objects.active(),
        required=False,
        empty_label=gettext_lazy("First free aesthetician"),
        label=gettext_lazy("Aesthetician"),
    )
    date = forms.DateField(widget=DATE_INPUT, validators=[check_year], label=gettext_lazy("Date"))
    time = forms.TimeField(widget=TIME_INPUT, label=pgettext_lazy("time of day", "Time"))
    override_reason = forms.CharField(
        max_length=200,
        required=False,
        label=gettext_lazy("Reason to book despite the screening"),
    )
    slot = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A new patient's number is read in the country of the clinic being booked.
        slug = self.data.get(self.add_prefix("location")) if self.is_bound else None
        if slug:
            country = Location.objects.filter(slug=str(slug)).values_list("country", flat=True)
            self.fields["phone"].set_region(country.first())

    def location_for(self, cleaned):
        return cleaned.get("location")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("slot"):  # the view applies a readable suggested time and empties it
            self.add_error(
                None, _("That suggested time cannot be booked. Please choose a date and time.")
            )
        if not cleaned.get("patient"):
            missing = [f for f in ("first_name", "last_name", "phone") if not cleaned.get(f)]
            for name in missing:
                self.add_error(name, _("Needed for a new patient (or pick one found above)."))
        self.clean_start(cleaned)
        return cleaned


class MoveForm(_WhenMixin, forms.Form):
    date = forms.DateField(widget=DATE_INPUT, validators=[check_year], label=gettext_lazy("Date"))
    time = forms.TimeField(widget=TIME_INPUT, label=pgettext_lazy("time of day", "Time"))
    provider = forms.ModelChoiceField(
        Provider.objects.active(),
        required=False,
        label=gettext_lazy("Aesthetician"),
        empty_label=gettext_lazy("Keep the same aesthetician"),
    )
    reason = forms.CharField(
        max_length=200,
        required=False,
        label=gettext_lazy("Reason"),
        help_text=gettext_lazy("Needed to move a plan session outside its window."),
    )

    def __init__(self, *args, appointment: Appointment, **kwargs):
        super().__init__(*args, **kwargs)
        self.appointment = appointment
        self.fields["provider"].queryset = Provider.objects.performing(
            appointment.treatment, appointment.location
        )

    def location_for(self, cleaned):
        return self.appointment.location

    def clean(self):
        cleaned = super().clean()
        self.clean_start(cleaned)
        return cleaned


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=200, label=gettext_lazy("Reason for cancelling"))


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (s, s.label)
            for s in (
                Appointment.Status.CONFIRMED,
                Appointment.Status.CHECKED_IN,
                Appointment.Status.NO_SHOW,
                Appointment.Status.COMPLETED,
            )
        ]
    )
    reason = forms.CharField(required=False, max_length=200)


class PatientForm(forms.ModelForm):
    phone = PhoneField(required=False)

    class Meta:
        model = Patient
        fields = [
            "first_name",
            "last_name",
            "phone",
            "email",
            "date_of_birth",
            "email_consent",
            "sms_consent",
            "fitzpatrick_type",
            "cleared_for_protocols",
            "notes",
        ]
        widgets = {"date_of_birth": DATE_INPUT, "notes": forms.Textarea(attrs={"rows": 3})}
        labels = {
            "first_name": gettext_lazy("First name"),
            "last_name": gettext_lazy("Last name"),
            "email": gettext_lazy("Email"),
            "date_of_birth": gettext_lazy("Date of birth"),
            "email_consent": gettext_lazy("Email reminders"),
            "sms_consent": gettext_lazy("SMS reminders"),
            "fitzpatrick_type": gettext_lazy("Fitzpatrick type"),
            "cleared_for_protocols": gettext_lazy("Cleared for protocols"),
            "notes": gettext_lazy("Notes"),
        }
        help_texts = {
            "cleared_for_protocols": gettext_lazy(
                "Staff cleared this patient for protocol treatments after a consultation."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].label = gettext_lazy("Phone")
        self.fields["date_of_birth"].validators.append(check_year)
        self.fields["phone"].set_region(services.phone_region(self.instance))


class PlanForm(_WhenMixin, forms.Form):
    treatment = forms.ModelChoiceField(
        Treatment.objects.active().filter(protocol__isnull=False), label=gettext_lazy("Treatment")
    )
    location = forms.ModelChoiceField(
        Location.objects.all(),
        to_field_name="slug",
        empty_label=None,
        label=gettext_lazy("Location"),
    )
    provider = forms.ModelChoiceField(
        Provider.objects.active(),
        required=False,
        empty_label=gettext_lazy("First free aesthetician"),
        label=gettext_lazy("Aesthetician"),
    )
    sessions = forms.IntegerField(
        min_value=1, max_value=12, initial=3, label=gettext_lazy("Sessions")
    )
    date = forms.DateField(
        widget=DATE_INPUT, label=gettext_lazy("First session date"), validators=[check_year]
    )
    time = forms.TimeField(widget=TIME_INPUT, label=gettext_lazy("First session time"))

    def location_for(self, cleaned):
        return cleaned.get("location")

    def clean(self):
        cleaned = super().clean()
        treatment, sessions = cleaned.get("treatment"), cleaned.get("sessions")
        if treatment and sessions:
            protocol = treatment.protocol
            if not protocol.min_sessions <= sessions <= protocol.max_sessions:
                self.add_error(
                    "sessions",
                    _("%(treatment)s is planned with %(low)s to %(high)s sessions.")
                    % {
                        "treatment": treatment,
                        "low": protocol.min_sessions,
                        "high": protocol.max_sessions,
                    },
                )
        self.clean_start(cleaned)
        return cleaned


class WaitlistForm(forms.ModelForm):
    class Meta:
        model = WaitlistEntry
        fields = ["treatment", "location", "provider", "earliest_date", "latest_date", "notes"]
        widgets = {"earliest_date": DATE_INPUT, "latest_date": DATE_INPUT}
        labels = {
            "treatment": gettext_lazy("Treatment"),
            "location": gettext_lazy("Location"),
            "provider": gettext_lazy("Only with"),
            "earliest_date": gettext_lazy("From"),
            "latest_date": gettext_lazy("Until"),
            "notes": gettext_lazy("Notes"),
        }
        help_texts = {"provider": gettext_lazy("Only this aesthetician; empty for anyone.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].empty_label = gettext_lazy("Any aesthetician")
        self.fields["treatment"].queryset = Treatment.objects.active()
        for name in ("earliest_date", "latest_date"):
            self.fields[name].validators.append(check_year)

    def clean(self):
        cleaned = super().clean()
        earliest, latest = cleaned.get("earliest_date"), cleaned.get("latest_date")
        if earliest and latest and latest < earliest:
            self.add_error("latest_date", _("The last day must be on or after the first."))
        return cleaned
