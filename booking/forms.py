from django import forms
from django.conf import settings

from . import services
from .models import Appointment


class AppointmentAdminForm(forms.ModelForm):
    """The admin's appointment form: derives the held times and refuses an overlap with a
    message (the database exclusion constraint still decides under a race)."""

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
        return cleaned
