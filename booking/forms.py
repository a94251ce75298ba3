from django import forms
from django.conf import settings
from django.utils import timezone
from phonenumbers import SUPPORTED_REGIONS

from . import services
from .models import Appointment
from .phones import PhoneField


class AppointmentAdminForm(forms.ModelForm):
    """The admin's appointment form: derives the held times and refuses an overlap with a
    message (the database exclusion constraint still decides under a race). A new visit is
    screened like any staff booking: past a refusal only with a reason."""

    override_reason = forms.CharField(
        required=False,
        max_length=200,
        help_text="Only for a new visit the patient's screening refuses: why book it anyway.",
    )

    class Meta:
        model = Appointment
        fields = [
            "patient",
            "treatment",
            "location",
            "provider",
            "room",
            "start",
            "status",
            "kind",
            "plan",
            "session_number",
            "out_of_window_reason",
            "cancellation_reason",
            "late_cancellation",
            "notes",
        ]
        help_texts = {
            "status": (
                "Change the status of a booked visit on the staff pages (/staff/): they record "
                "the cancellation, notify the patient and offer the time to the waitlist."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None and "status" in self.fields:
            # A visit begins booked or confirmed; it is checked in, completed (with its consent
            # checked) or marked a no-show on the staff pages, through change_status.
            self.fields["status"].choices = [
                (value, label)
                for value, label in self.fields["status"].choices
                if value in services.ADMIN_NEW_STATUSES
            ]
        if "start" in self.fields:
            zone = settings.CLINIC_TIME_ZONE
            self.fields["start"].help_text = f"When the patient arrives, in {zone} time."

    def clean(self):
        cleaned = super().clean()
        appointment = self.instance
        for field in ("treatment", "location", "provider", "room", "start", "status", "patient"):
            if field in cleaned:
                setattr(appointment, field, cleaned[field])
        if cleaned.get("treatment") and cleaned.get("start"):
            appointment.set_times(cleaned["start"])
            problem = services.overlap_problem(appointment)
            if problem:
                raise forms.ValidationError(problem)
            # A visit already on a day closed later can still be edited; a new or moved one
            # cannot be put there.
            moved = appointment.pk is None or {"start", "location"} & set(self.changed_data)
            if moved and appointment.is_active and cleaned.get("location"):
                problem = services.closed_day_problem(cleaned["location"], cleaned["start"])
                if problem:
                    raise forms.ValidationError(problem)
        if appointment.pk is None and appointment.is_active and appointment.patient_id:
            try:
                services.check_staff_screening(
                    patient=appointment.patient,
                    treatment=cleaned["treatment"],
                    location=cleaned["location"],
                    now=timezone.now(),
                    reason=cleaned.get("override_reason", ""),
                )
            except services.ScreeningRequired as error:
                self.add_error("override_reason", error.message)
        return cleaned


class LocationAdminForm(forms.ModelForm):
    """The clinic's own number is read in its country (Location.country). No Meta: the admin
    supplies the model and its fields."""

    phone = PhoneField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        country = self.data.get(self.add_prefix("country")) if self.is_bound else None
        country = str(country or self.instance.country or "").upper()
        self.fields["phone"].set_region(country if country in SUPPORTED_REGIONS else None)


class PatientAdminForm(forms.ModelForm):
    """The admin's patient form: a patient's number is read in the country of their latest
    visit's location, and an email another account signs in with is refused here, as at the
    desk (booking.services.account_email_problem). PatientAdmin supplies the model and fields."""

    phone = PhoneField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].set_region(services.phone_region(self.instance))

    def clean(self):
        cleaned = super().clean()
        if {"email", "user"} & set(self.changed_data):
            # "user" is not on the form when it is read-only (see PatientAdmin).
            user = cleaned.get("user") if "user" in self.fields else self.instance.user
            problem = services.account_email_problem(user, cleaned.get("email", ""))
            if problem:
                self.add_error("email", problem)
        return cleaned
