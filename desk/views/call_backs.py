"""Patients who replied R to a reminder: ring them, then mark them called back."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import front_desk_required
from desk.views.common import _now
from notifications import inbound
from notifications.models import CallBackRequest


@front_desk_required
def call_back_list(request):
    waiting = CallBackRequest.objects.waiting().select_related(
        "patient", "appointment__location", "appointment__treatment"
    )
    return render(request, "staff/call_backs.html", {"waiting": waiting[:200]})


@front_desk_required
@require_POST
def call_back_done(request, pk):
    call_back = get_object_or_404(CallBackRequest.objects.select_related("patient"), pk=pk)
    if inbound.mark_called_back(call_back, now=_now(), actor=request.user):
        messages.success(
            request,
            _("%(patient)s is marked called back.") % {"patient": call_back.patient.full_name},
        )
    else:
        messages.info(request, _("Someone has already called them back."))
    return redirect("desk:call_backs")
