"""Pages around the outbox: the visit-confirmation link from the 48-hour reminder, Twilio's
webhooks (a reply such as STOP, a delivery report), and the front desk's list of messages
that could not be sent."""

from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.db import transaction
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import front_desk_required
from booking import services
from booking.models import Appointment
from notifications import dispatch, inbound, rendering, sms
from notifications.models import BouncedEmail, Notification
from notifications.tasks import dispatch_due_messages


@require_http_methods(["GET", "POST"])
def visit_confirm(request, token):
    """GET shows the visit and a button (mail scanners follow links); POST confirms it."""
    try:
        pk, start = rendering.read_confirm_token(token)
    except signing.BadSignature:
        return render(
            request, "notifications/visit_confirm.html", {"problem": "expired"}, status=404
        )
    appointment = get_object_or_404(
        Appointment.objects.select_related("location", "treatment"), pk=pk
    )
    problem = ""
    if appointment.start != start:
        problem = "moved"
    elif not appointment.is_active:
        problem = "inactive"
    if request.method == "POST" and not problem:
        if appointment.status == Appointment.Status.BOOKED:
            services.confirm_appointment(
                appointment=appointment,
                via="email",
                now=timezone.now(),
                reason="Confirmed from the reminder email.",
            )
        return redirect(request.path + "?done=1")
    return render(
        request,
        "notifications/visit_confirm.html",
        {
            "appointment": appointment,
            "problem": problem,
            "done": request.GET.get("done") == "1",
            "confirmed": appointment.status != Appointment.Status.BOOKED,
        },
        status=409 if problem else 200,
    )


def _signed_twilio_params(request) -> dict[str, str] | None:
    """The POSTed parameters if X-Twilio-Signature proves Twilio sent them, else None."""
    params = {key: request.POST.get(key, "") for key in request.POST}
    signature = request.headers.get("X-Twilio-Signature", "")
    url = request.build_absolute_uri()
    if not sms.signature_is_valid(settings.TWILIO_AUTH_TOKEN, url, params, signature):
        return None
    return params


EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@csrf_exempt  # Twilio cannot send our CSRF token; its HMAC signature is checked instead
@require_POST
def sms_inbound(request):
    """A patient's reply (notifications.inbound): C confirms, R asks for a call back, STOP
    and PARAR opt out, START opts in; the answer goes back as TwiML."""
    params = _signed_twilio_params(request)
    if params is None:
        return HttpResponseForbidden("Bad signature.")
    if not params.get("MessageSid"):
        return HttpResponseBadRequest("MessageSid is missing.")
    answer = inbound.record_reply(
        message_sid=params["MessageSid"],
        sender=params.get("From", ""),
        body=params.get("Body", ""),
        now=timezone.now(),
    )
    if not answer:
        return HttpResponse(EMPTY_TWIML, content_type="text/xml")
    twiml = (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
        f"{escape(answer)}</Message></Response>"
    )
    return HttpResponse(twiml.encode(), content_type="text/xml; charset=utf-8")


@csrf_exempt  # as above: signed by Twilio
@require_POST
def sms_status(request):
    """A delivery report (the StatusCallback of a message we sent): error 21610 means the
    number has opted out, so SMS reminders are turned off for it."""
    params = _signed_twilio_params(request)
    if params is None:
        return HttpResponseForbidden("Bad signature.")
    if not params.get("MessageSid"):
        return HttpResponseBadRequest("MessageSid is missing.")
    inbound.record_delivery_report(
        message_sid=params["MessageSid"],
        recipient=params.get("To", ""),
        status=params.get("MessageStatus", ""),
        error_code=params.get("ErrorCode", ""),
        now=timezone.now(),
    )
    return HttpResponse(status=204)


@front_desk_required
def failed_messages(request):
    failed = Notification.objects.failed().select_related("patient", "appointment__location")
    waiting = Notification.objects.waiting().order_by("due_at")
    bounced = BouncedEmail.objects.select_related("patient")[:100]
    return render(
        request,
        "staff/failed_messages.html",
        {
            "failed": failed[:200],
            "waiting_count": waiting.count(),
            "next_due": waiting.values_list("due_at", flat=True).first(),
            "bounced": bounced,
        },
    )


@front_desk_required
@require_POST
def retry_message(request, pk):
    notification = get_object_or_404(Notification, pk=pk)
    with transaction.atomic():
        if dispatch.retry(notification, now=timezone.now()):
            transaction.on_commit(dispatch_due_messages.delay, robust=True)
            messages.success(
                request,
                _("Sending again: %(kind)s.") % {"kind": notification.get_kind_display()},
            )
        else:
            messages.info(request, _("That message is not failed any more."))
    return redirect("failed_messages")
