"""The booking draft: what the patient has chosen so far. It lives server-side
(booking.models.BookingDraft) under a random token; the session keeps only the token, and the
"continue on another device" and emailed links carry it, so a change of browser (a mail app's
own browser) picks the booking up where it was. Picking a time holds it
(booking.services.hold_time) until the patient confirms, changes time or the hold expires.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import patient_of
from booking import services
from booking.models import BookingDraft, Hold, Location, Patient, Provider, TreatmentPlan
from portal.views.times import parse_day
from treatments import screening
from treatments.models import Treatment

DRAFT = "booking_draft"  # the session key of the draft's token (accounts.landing reads it)


@dataclass
class Draft:
    token: str
    treatment: Treatment
    location: Location
    provider: Provider | None
    start: datetime
    sessions: int | None
    plan: TreatmentPlan | None
    answers: list[screening.Answer] | None
    answered_on: date | None
    answers_saved: bool
    chose_anyone: bool
    patient: Patient | None  # the new, not yet verified patient this draft was booked for

    @property
    def protocol(self):
        return None if self.plan else self.treatment.protocol_or_none

    @property
    def local_start(self) -> datetime:
        return self.location.local(self.start)


def _row(request) -> BookingDraft | None:
    token = request.session.get(DRAFT)
    if not isinstance(token, str):
        return None
    return BookingDraft.objects.filter(pk=token).first()


def save_draft(request, **values) -> Hold:
    """Start the draft with a picked time and hold that time; raises services.SlotTaken (or
    another BookingError) when it cannot be held, and then the draft keeps no time."""
    now = timezone.now()
    data = {
        "treatment": values["treatment"].pk,
        "location": values["location"].pk,
        "provider": values["provider"].pk if values.get("provider") else None,
        "chose_anyone": not values.get("provider"),
        "start": values["start"].isoformat(),
        "plan": values["plan"].pk if values.get("plan") else None,
        "sessions": None,
        "answers": None,
        "answered_on": None,
        "answers_saved": False,
    }
    row = _row(request)
    if row is None:
        row = services.new_draft(data=data, now=now)
        request.session[DRAFT] = row.pk
    else:
        # Keep the answers already given for the same treatment (changing only the time).
        if row.data.get("treatment") == data["treatment"] and row.data.get("plan") == data["plan"]:
            for key in ("answers", "answered_on", "answers_saved", "sessions"):
                data[key] = row.data.get(key)
        row.data, row.updated_at = data, now
        row.save(update_fields=["data", "updated_at"])
    try:
        hold = services.hold_time(
            draft=row,
            treatment=values["treatment"],
            location=values["location"],
            provider=values.get("provider"),
            start=values["start"],
            now=now,
        )
    except services.BookingError:
        services.release_holds(row)
        raise
    if not values.get("provider"):
        # "First available" became someone: name them from now on, and book with them.
        update_draft(request, provider=hold.provider_id)
    return hold


def update_draft(request, **changes) -> None:
    row = _row(request)
    if row is None:
        return
    row.data = {**row.data, **changes}
    row.updated_at = timezone.now()
    row.save(update_fields=["data", "updated_at"])


DRAFT_PATIENT = "booking_draft_patient"  # the new patient this browser typed in for the draft


def attach_patient(request, patient: Patient) -> None:
    """The draft is for this new patient; only this browser may book for them again."""
    BookingDraft.objects.filter(pk=request.session.get(DRAFT)).update(patient=patient)
    request.session[DRAFT_PATIENT] = patient.pk


def draft_patient_here(request, draft: "Draft") -> Patient | None:
    """The draft's new patient, when this browser is the one that typed their details (a
    continue link opened elsewhere never shows or reuses them)."""
    patient = draft.patient
    if patient is None or request.session.get(DRAFT_PATIENT) != patient.pk:
        return None
    return patient


def resume(request, token: str) -> bool:
    """Open the draft `token` in this browser (the emailed or copied link)."""
    if not BookingDraft.objects.filter(pk=token).exists():
        return False
    request.session[DRAFT] = token
    return True


def load_draft(request) -> Draft | None:
    row = _row(request)
    if row is None or not row.data.get("treatment"):
        return None
    raw = row.data
    try:
        treatment = Treatment.objects.active().select_related("protocol").get(pk=raw["treatment"])
        location = Location.objects.get(pk=raw["location"])
        provider = (
            Provider.objects.active().select_related("user").get(pk=raw["provider"])
            if raw["provider"]
            else None
        )
        plan = None
        if raw["plan"]:
            patient = patient_of(request.user)
            plan = TreatmentPlan.objects.select_related("treatment__protocol", "location").get(
                pk=raw["plan"], patient=patient
            )
    except (Treatment.DoesNotExist, Location.DoesNotExist, Provider.DoesNotExist):
        return None
    except TreatmentPlan.DoesNotExist:
        return None
    answers = raw.get("answers")
    return Draft(
        token=row.pk,
        treatment=treatment,
        location=location,
        provider=provider,
        start=datetime.fromisoformat(raw["start"]),
        sessions=raw.get("sessions"),
        plan=plan,
        answers=None
        if answers is None
        else [
            screening.Answer(a["code"], a["yes"], parse_day(a.get("last_occurred")))
            for a in answers
        ],
        answered_on=parse_day(raw.get("answered_on")),
        answers_saved=raw.get("answers_saved", False),
        chose_anyone=raw.get("chose_anyone", False),
        patient=row.patient,
    )


def forget_draft(request) -> None:
    """The booking was made (or abandoned): drop the draft and give back its hold."""
    token = request.session.pop(DRAFT, None)
    request.session.pop(DRAFT_PATIENT, None)
    if isinstance(token, str):
        BookingDraft.objects.filter(pk=token).delete()  # its holds go with it


def start_over(request, message=None):
    forget_draft(request)
    messages.info(request, message or _("Let's start your booking again."))
    return redirect("book_start")
