"""The booking draft: what the patient has chosen so far, kept in the session. Nothing is
written until the patient confirms on the review page."""

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib import messages
from django.shortcuts import redirect

from accounts.roles import patient_of
from booking.models import Location, Provider, TreatmentPlan
from portal.views.times import parse_day
from treatments import screening
from treatments.models import Treatment

DRAFT = "booking_draft"


@dataclass
class Draft:
    treatment: Treatment
    location: Location
    provider: Provider | None
    start: datetime
    sessions: int | None
    plan: TreatmentPlan | None
    answers: list[screening.Answer] | None
    answered_on: date | None
    answers_saved: bool

    @property
    def protocol(self):
        return None if self.plan else self.treatment.protocol_or_none

    @property
    def local_start(self) -> datetime:
        return self.location.local(self.start)


def save_draft(request, **values) -> None:
    request.session[DRAFT] = {
        "treatment": values["treatment"].pk,
        "location": values["location"].pk,
        "provider": values["provider"].pk if values.get("provider") else None,
        "start": values["start"].isoformat(),
        "plan": values["plan"].pk if values.get("plan") else None,
        "sessions": None,
        "answers": None,
        "answered_on": None,
        "answers_saved": False,
    }


def update_draft(request, **changes) -> None:
    request.session[DRAFT] = {**request.session[DRAFT], **changes}


def load_draft(request) -> Draft | None:
    raw = request.session.get(DRAFT)
    if not raw:
        return None
    try:
        treatment = Treatment.objects.active().select_related("protocol").get(pk=raw["treatment"])
        location = Location.objects.get(pk=raw["location"])
        provider = Provider.objects.active().get(pk=raw["provider"]) if raw["provider"] else None
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
    )


def start_over(request, message="Let's start your booking again."):
    request.session.pop(DRAFT, None)
    messages.info(request, message)
    return redirect("book_start")
