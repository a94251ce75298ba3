"""The waitlist: add a patient, offer a freed time, mark an entry booked or removed."""

from datetime import datetime

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import front_desk_required
from booking import dates, services
from booking.models import Patient, WaitlistEntry
from booking.services import waitlist
from desk.forms import WaitlistForm
from desk.views.common import _by_pk, _next_or, _now, _when


@front_desk_required
def waitlist_view(request):
    patient = _by_pk(Patient, request.POST.get("patient") or request.GET.get("patient"))
    form = WaitlistForm(request.POST or None)
    if request.method == "POST":
        if patient is None:
            form.add_error(None, _("Choose the patient first."))
        elif form.is_valid():
            entry = waitlist.add_entry(
                entry=form.save(commit=False), patient=patient, actor=request.user, now=_now()
            )
            messages.success(
                request,
                _("%(patient)s is on the waitlist for %(treatment)s.")
                % {"patient": patient, "treatment": entry.treatment},
            )
            return redirect("desk:waitlist")
    entries = (
        WaitlistEntry.objects.filter(
            status__in=[WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED]
        )
        .select_related("patient", "treatment", "location", "provider")
        .order_by("status", "created_at")
    )
    return render(
        request,
        "staff/waitlist.html",
        {"entries": entries, "form": form, "patient": patient},
    )


@front_desk_required
@require_POST
def waitlist_update(request, pk: int):
    entry = get_object_or_404(WaitlistEntry.objects.select_related("patient", "location"), pk=pk)
    action = request.POST.get("action")
    now = _now()
    if action == "offer":
        try:
            start = datetime.fromisoformat(request.POST.get("start", ""))
        except ValueError:
            return HttpResponseBadRequest(_("Give the time to offer."))
        if start.tzinfo is None:
            return HttpResponseBadRequest(_("Give the time with its time zone."))
        if not dates.in_range(start):
            return HttpResponseBadRequest(dates.OUT_OF_RANGE)
        try:
            waitlist.offer(entry, start=start, now=now, actor=request.user)
        except services.BookingError as error:
            messages.error(request, error.message)
            return redirect(_next_or(request, reverse("desk:waitlist")))
        messages.success(
            request,
            _("Offered %(day)s at %(time)s to %(patient)s.")
            % {"patient": entry.patient, **_when(entry.location, start)},
        )
    elif action in waitlist.STAFF_STATUSES:
        waitlist.set_entry_status(entry=entry, status=action, actor=request.user, now=now)
        messages.success(
            request,
            _("%(patient)s: waitlist entry %(status)s.")
            % {"patient": entry.patient, "status": entry.get_status_display().lower()},
        )
    else:
        return HttpResponseBadRequest(_("Unknown action."))
    return redirect(_next_or(request, reverse("desk:waitlist")))
