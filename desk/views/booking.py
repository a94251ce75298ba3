"""Phone bookings: the booking form with the patient's screening flags, a staff override
with a reason, and the nearest free times when the asked-for time is taken."""

from datetime import datetime

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import front_desk_required
from booking import dates, queries, services
from booking.models import Appointment, Location, Patient, Provider
from desk.forms import FreeTimesForm, PhoneBookingForm
from desk.views.common import _by_pk, _calendar_url, _now, _when
from treatments.models import Treatment

DAY_FREE_TIMES = 24  # free starts listed for a chosen day before "and more"


def _apply_picked_slot(data, location):
    """A suggested time the desk clicked: "2027-03-02T10:15:00-05:00|7" sets date, time and
    aesthetician. One that cannot be read is left in ``slot``, where the form refuses it."""
    picked = data.get("slot", "")
    if "|" not in picked or location is None:
        return data
    when, provider_id = picked.split("|", 1)
    try:
        instant = datetime.fromisoformat(when)
        if instant.tzinfo is None or not dates.in_range(instant):
            return data
        local = location.local(instant)  # cannot overflow inside the accepted years
    except (ValueError, OverflowError):
        return data
    data = data.copy()
    data["date"] = f"{local:%Y-%m-%d}"
    data["time"] = f"{local:%H:%M}"
    data["provider"] = provider_id
    data["slot"] = ""
    return data


@front_desk_required
def book(request):
    now = _now()
    suggestions, result, patient = [], None, None
    if request.method == "POST":
        data = request.POST
        location = Location.objects.filter(slug=data.get("location")).first()
        form = PhoneBookingForm(_apply_picked_slot(data, location))
        if form.is_valid():
            cleaned = form.cleaned_data
            patient = cleaned["patient"]
            location, treatment = cleaned["location"], cleaned["treatment"]
            today = location.local(now).date()
            result = services.screening_for(patient, treatment, today) if patient else None
            try:
                appointment = _book_phone_patient(request.user, cleaned, now)
            except services.ScreeningRequired as error:
                form.add_error("override_reason", error.message)
            except services.BookingError as error:
                form.add_error(None, error.message)
                chosen = cleaned["provider"]
                suggestions = services.nearest_free_times(
                    treatment=treatment,
                    location=location,
                    start=cleaned["start"],
                    provider_id=chosen.pk if chosen else None,
                    now=now,
                )
            else:
                messages.success(
                    request,
                    _(
                        "Booked %(patient)s for %(treatment)s on %(day)s at %(time)s "
                        "with %(provider)s."
                    )
                    % {
                        "patient": appointment.patient,
                        "treatment": treatment,
                        "provider": appointment.provider,
                        **_when(location, appointment.start),
                    },
                )
                return redirect(_calendar_url(appointment))
        else:
            patient = form.cleaned_data.get("patient") if hasattr(form, "cleaned_data") else None
    else:
        initial = {
            key: request.GET[key]
            for key in ("location", "provider", "date", "time", "treatment", "patient")
            if request.GET.get(key)
        }
        if "treatment" not in initial:
            # Most calls are for the clinic's main treatment: preselect the first one offered.
            offered = Treatment.objects.active().filter(is_consultation=False)
            provider = _by_pk(Provider, initial.get("provider"))
            if provider is not None:
                offered = offered.filter(providers=provider)
            initial["treatment"] = offered.values_list("pk", flat=True).first()
        form = PhoneBookingForm(initial=initial)
        patient = _by_pk(Patient, initial.get("patient"))
    return render(
        request,
        "staff/book.html",
        {"form": form, "suggestions": suggestions, "patient": patient, "screening": result},
    )


@transaction.atomic
def _book_phone_patient(user, cleaned, now) -> Appointment:
    """A new patient record if the caller has none yet, and the visit, in one transaction:
    the service screens the patient and books past a refusal only with the reason given."""
    patient = cleaned["patient"] or services.create_patient(
        actor=user,
        now=now,
        phone_region=cleaned["location"].country,
        **{f: cleaned[f] for f in ("first_name", "last_name", "phone", "email")},
    )
    return services.book_appointment(
        patient=patient,
        treatment=cleaned["treatment"],
        location=cleaned["location"],
        start=cleaned["start"],
        now=now,
        provider=cleaned["provider"],
        booked_by=user,
        staff=True,
        override_reason=cleaned["override_reason"],
    )


@never_cache  # health data: no browser or proxy may keep a copy
@front_desk_required
@require_POST
def book_screening(request):
    """The screening flags of the chosen patient for the chosen treatment (an htmx fragment).
    POSTed with only those three fields (and the CSRF header), so a patient's name and phone
    never land in a URL or an access log."""
    patient = _by_pk(Patient, request.POST.get("patient"))
    treatment = _by_pk(Treatment, request.POST.get("treatment"))
    location = Location.objects.filter(slug=request.POST.get("location")).first()
    result = None
    if patient and treatment:
        today = (location.local(_now()) if location else timezone.localtime()).date()
        result = services.screening_for(patient, treatment, today)
    return render(request, "staff/_screening.html", {"screening": result, "patient": patient})


@front_desk_required
@require_GET
def book_times(request):
    """The free times of the chosen treatment, aesthetician (or anyone) and day, as the desk
    picks them (an htmx fragment): each one a button that books it. GET with only those
    fields, never the patient's."""
    form = FreeTimesForm(request.GET)
    if not form.is_valid():
        return render(request, "staff/_free_times.html", {"form": form, "times": []})
    cleaned = form.cleaned_data
    location, treatment, provider = cleaned["location"], cleaned["treatment"], cleaned["provider"]
    day = cleaned["date"]
    schedules = queries.load_schedules(
        treatment=treatment,
        location=location,
        first_day=day,
        last_day=day,
        provider_ids=[provider.pk] if provider else None,
    )
    free = schedules.free_times(
        day, day, now=_now(), rules=services.rules_for(schedules, staff=True)
    )
    times = [
        services.NearbyTime(
            f.start, f.provider_ids[0], schedules.provider_names.get(f.provider_ids[0], "")
        )
        for f in free
    ]
    return render(
        request,
        "staff/_free_times.html",
        {
            "form": form,
            "location": location,
            "times": times[:DAY_FREE_TIMES],
            "more": len(times) > DAY_FREE_TIMES,
            "day": day,
        },
    )
