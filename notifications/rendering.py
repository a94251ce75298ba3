"""What a message says: the SMS text (first name, date, time, clinic: nothing medical), the
email with its .ics, and the signed link that confirms a visit from the 48-hour reminder."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from booking import formats, ics
from booking.models import Appointment, Location
from notifications.models import Notification

Kind = Notification.Kind

SUBJECTS = {
    Kind.CONFIRMATION: _("Your visit is booked"),
    Kind.REMINDER_LONG: _("See you soon: your visit in two days"),
    Kind.REMINDER_SHORT: _("See you in a couple of hours"),
    Kind.AFTERCARE: _("Looking after your skin"),
    Kind.NEXT_SESSION: _("Time to book your next session"),
    Kind.WINDOW_CLOSING: _("Last week to book your next session"),
    Kind.MAINTENANCE_RECALL: _("Time for your maintenance session"),
    Kind.WAITLIST_OFFER: _("A time you wanted is free"),
    Kind.CANCELLED: _("Your visit is cancelled"),
    Kind.RESCHEDULED: _("Your visit has moved"),
    Kind.RECEIPT: _("Your receipt"),
}

# What a receipt says it was for, and how it was paid (payments.models.Payment's kinds,
# fees and methods), in the patient's language.
RECEIPT_FOR = {
    "deposit": _("Deposit"),
    "session": _("Session"),
    "course": _("Course paid up front"),
    "late_cancel": _("Late-cancel fee"),
    "no_show": _("No-show fee"),
}
RECEIPT_METHODS = {
    "online": _("Card online"),
    "card_on_file": _("Card on file"),
    "cash": _("Cash"),
    "terminal": _("Card terminal"),
}


def location_of(notification: Notification) -> Location | None:
    if notification.plan_id:
        return notification.plan.location
    if hasattr(notification, _REMEMBERED):
        return getattr(notification, _REMEMBERED)
    location_id = (notification.context or {}).get("location")
    location = Location.objects.filter(pk=location_id).first() if location_id else None
    remember_location(notification, location)
    return location


_REMEMBERED = "_location_of"


def remember_location(notification: Notification, location: Location | None) -> None:
    """What location_of answers for this message from now on (the dispatcher loads a chunk's
    clinics in one query)."""
    setattr(notification, _REMEMBERED, location)


def _local(instant: datetime | None, tz: ZoneInfo) -> datetime | None:
    return instant.astimezone(tz) if instant else None


def sms_context(notification: Notification) -> dict[str, str]:
    """Everything an SMS may say: first name, date, time and clinic name. Nothing medical."""
    location = (
        notification.appointment.location
        if notification.appointment_id
        else location_of(notification)
    )
    tz = location.zone if location else UTC
    when = _local(notification.about_start, tz)
    if when is None and notification.context.get("latest"):
        day = date.fromisoformat(notification.context["latest"])
        return {
            "first_name": notification.patient.first_name,
            "date": formats.short_date(day),
            "time": "",
            "clinic": location.name if location else "",
        }
    visits = 1
    appointment = notification.appointment
    if notification.kind == Kind.CONFIRMATION and appointment and appointment.plan_id:
        visits = len(_course_visits(appointment)) or 1
    return {
        "first_name": notification.patient.first_name,
        "date": formats.short_date(when),
        "time": formats.clock(when),
        "clinic": location.name if location else "",
        "visits": visits,
    }


def render_sms(notification: Notification) -> str:
    """The SMS in the patient's own language (Patient.language)."""
    with translation.override(notification.patient.message_language):
        text = render_to_string(f"sms/{notification.kind}.txt", sms_context(notification))
    return " ".join(text.split())


def confirm_token(appointment: Appointment) -> str:
    return signing.dumps([appointment.pk, appointment.start.isoformat()], salt="visit-confirm")


def read_confirm_token(token: str) -> tuple[int, datetime]:
    """(appointment id, start) from a confirm link; raises signing.BadSignature."""
    pk, start = signing.loads(token, salt="visit-confirm", max_age=timedelta(days=30))
    return pk, datetime.fromisoformat(start)


def email_context(notification: Notification) -> dict:
    appointment = notification.appointment
    plan = notification.plan
    location = appointment.location if appointment else location_of(notification)
    tz = location.zone if location else UTC
    context = {
        "patient": notification.patient,
        "first_name": notification.patient.first_name,
        "appointment": appointment,
        "plan": plan,
        "treatment": appointment.treatment if appointment else plan.treatment if plan else None,
        "location": location,
        # Naive wall-clock time: template filters would show an aware one in UTC.
        "start": _local(notification.about_start, tz).replace(tzinfo=None)
        if notification.about_start
        else None,
        "session_number": notification.session_number
        or (appointment and appointment.session_number),
        "site_url": settings.SITE_URL,
    }
    if notification.kind == Kind.CONFIRMATION and appointment and appointment.plan_id:
        context["course"] = [
            (visit.session_number, _local(visit.start, tz).replace(tzinfo=None))
            for visit in _course_visits(appointment)
        ]
    if notification.context.get("earliest"):
        context["earliest"] = date.fromisoformat(notification.context["earliest"])
        context["latest"] = date.fromisoformat(notification.context["latest"])
    if notification.kind == Kind.RECEIPT:
        context["receipt"] = receipt_context(notification.context, tz)
    if notification.kind == Kind.REMINDER_LONG and appointment:
        path = reverse("visit_confirm", args=[confirm_token(appointment)])
        context["confirm_url"] = settings.SITE_URL.rstrip("/") + path
    return context


def receipt_context(saved: dict, tz: ZoneInfo) -> dict:
    """A receipt's lines from the snapshot payments.receipts queued, the time on the
    location's wall clock (naive, for the template filters)."""
    at = datetime.fromisoformat(saved["at"]).astimezone(tz).replace(tzinfo=None)
    what = saved.get("fee") or saved.get("kind", "")
    return {
        "refund": saved.get("refund", False),
        "number": saved.get("number", ""),
        "amount": saved["amount"],
        "currency": saved["currency"],
        "what": RECEIPT_FOR.get(what, what),
        "treatment": saved.get("treatment", ""),
        "sessions": saved.get("sessions"),
        "at": at,
        "method": RECEIPT_METHODS.get(saved.get("method", ""), saved.get("method", "")),
        "last4": saved.get("last4", ""),
    }


def _course_visits(appointment: Appointment):
    """The booked sessions of the appointment's plan, in order (for a course confirmation)."""
    return list(
        Appointment.objects.active()
        .filter(plan_id=appointment.plan_id, session_number__isnull=False)
        .select_related("location", "treatment")
        .order_by("start")
    )


def build_email(notification: Notification, *, now: datetime, connection=None):
    """The email in the patient's own language (Patient.language), with its calendar file."""
    with translation.override(notification.patient.message_language):
        context = email_context(notification)
        message = EmailMultiAlternatives(
            subject=str(SUBJECTS[notification.kind]),
            body=render_to_string(f"emails/{notification.kind}.txt", context),
            to=[notification.patient.email],
            connection=connection,
        )
        message.attach_alternative(
            render_to_string(f"emails/{notification.kind}.html", context), "text/html"
        )
    if notification.kind in (Kind.CONFIRMATION, Kind.RESCHEDULED, Kind.CANCELLED):
        course = context.get("course") or []
        calendar = (
            ics.for_appointments(_course_visits(notification.appointment), stamp=now)
            if len(course) > 1
            else ics.for_appointment(notification.appointment, stamp=now)
        )
        message.attach("visit.ics", calendar, "text/calendar; charset=utf-8; method=PUBLISH")
    return message
