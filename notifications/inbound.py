"""What the SMS provider tells us: a patient's reply, and delivery reports.

A reply that is just a keyword (any case; spaces and a full stop aside) is acted on:
- C confirms the sender's next upcoming visit (the 48-hour reminder asks for it; not YES,
  which carriers treat as an opt-in keyword), R puts them on the desk's call-back list;
- Twilio's default opt-out keywords, and the Spanish PARAR, BAJA, CANCELAR, DETENER, turn SMS
  reminders off (Twilio itself stops delivering to a number that sent one of its own, so we
  must stop queueing); its opt-in keywords turn them back on;
- anything else gets a short help text.
The answer goes back in the patient's language (English unless the patient record has a
``language`` of "es"; a Spanish keyword is answered in Spanish) and names no treatment.

A delivery refused with error 21610 (the number has opted out with Twilio, perhaps from another
of the clinic's services) turns SMS off too. Numbers are matched exactly in E.164
(booking.services.patients_with_phone). Each webhook is acted on once per MessageSid
(models.ProviderEvent), so a retried or replayed request changes nothing and answers nothing.
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import formats, translation
from django.utils.translation import pgettext_lazy

from booking import services
from booking.models import Appointment, Patient
from booking.services.audit import Actor
from notifications.models import CallBackRequest, ProviderEvent

__all__ = [
    "CALL_BACK_WORDS",
    "CONFIRM_WORDS",
    "OPT_IN_WORDS",
    "OPT_OUT_WORDS",
    "SPANISH_OPT_OUT_WORDS",
    "UNSUBSCRIBED_ERROR",
    "consent_from_reply",
    "language_of",
    "mark_called_back",
    "next_visit",
    "record_delivery_report",
    "record_reply",
]

# https://help.twilio.com/articles/223134027 (Twilio's default opt-out and opt-in keywords)
OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})
# Twilio does not stop for these, so we do (and answer, in Spanish).
SPANISH_OPT_OUT_WORDS = frozenset({"PARAR", "BAJA", "CANCELAR", "DETENER"})
CONFIRM_WORDS = frozenset({"C"})
CALL_BACK_WORDS = frozenset({"R"})

# The answers, rendered in the patient's language: short (one SMS segment with the clinic's
# name) and free of treatment names. Their Spanish is in the catalogue under the context
# "SMS reply" (it says "usted", as these texts always did; the pages say "tú").
ANSWERS = {
    "help": pgettext_lazy(
        "SMS reply",
        "Reply C to confirm your next visit, R and we will call you, or STOP to opt out.",
    ),
    "confirmed": pgettext_lazy(
        "SMS reply", "Thank you! Your visit at {clinic} on {date} at {time} is confirmed."
    ),
    "no_visit": pgettext_lazy(
        "SMS reply", "We found no upcoming visit to confirm. Reply R and we will call you."
    ),
    "call_back": pgettext_lazy("SMS reply", "Thank you, we will call you soon."),
    "opted_out": pgettext_lazy(
        "SMS reply", "You will get no more texts from us. Reply START to get them again."
    ),
}
DATE_FORMATS = {"en": ("D M j", "g:i A"), "es": ("l j \\d\\e F", "H:i")}
# "Attempt to send to unsubscribed recipient"
UNSUBSCRIBED_ERROR = "21610"


def _keyword(body: str) -> str:
    return body.strip().rstrip(".!").strip().upper()


def consent_from_reply(body: str) -> bool | None:
    """False for an opt-out keyword, True for an opt-in one, None for anything else. Like
    Twilio: the whole message is the keyword, in any case, spaces and a full stop aside."""
    word = _keyword(body)
    if word in OPT_OUT_WORDS or word in SPANISH_OPT_OUT_WORDS:
        return False
    if word in OPT_IN_WORDS:
        return True
    return None


def _first_time(message_sid: str, event: str, now: datetime) -> bool:
    _, created = ProviderEvent.objects.get_or_create(
        message_sid=message_sid, event=event, defaults={"received_at": now}
    )
    return created


def language_of(patients: list[Patient]) -> str:
    """The language to answer in: the patient record's, when it has one we speak."""
    for patient in patients:
        if patient.language in dict(settings.LANGUAGES):
            return patient.language
    return settings.LANGUAGE_CODE


def answer(key: str, language: str) -> str:
    with translation.override(language):
        return str(ANSWERS[key])


def next_visit(patients: list[Patient], now: datetime) -> Appointment | None:
    """The soonest visit still to come, of any of the patients on this number."""
    return (
        Appointment.objects.active()
        .filter(patient__in=patients, start__gt=now)
        .select_related("location", "patient")
        .order_by("start")
        .first()
    )


def _confirmed(visit: Appointment, language: str) -> str:
    day, clock = DATE_FORMATS[language]
    with translation.override(language):
        local = visit.local_start
        return str(ANSWERS["confirmed"]).format(
            clinic=visit.location.name,
            date=formats.date_format(local, day),
            time=formats.time_format(local, clock),
        )


@transaction.atomic
def record_reply(*, message_sid: str, sender: str, body: str, now: datetime) -> str:
    """A patient's reply: acted on (see the module's docstring). Returns the text to answer
    with, or "" for none (a replay, or Twilio's own opt-out and opt-in words, which Twilio
    answers itself)."""
    if not _first_time(message_sid, "reply", now):
        return ""
    word = _keyword(body)
    patients = services.patients_with_phone(sender)
    language = "es" if word in SPANISH_OPT_OUT_WORDS else language_of(patients)
    consent = consent_from_reply(body)
    if consent is not None:
        services.set_sms_consent_by_phone(
            sender, consent=consent, now=now, reason=f"SMS reply {word[:20]}"
        )
        return answer("opted_out", language) if word in SPANISH_OPT_OUT_WORDS else ""
    if not patients:
        return answer("help", "en")
    if word in CONFIRM_WORDS:
        visit = next_visit(patients, now)
        if visit is None:
            return answer("no_visit", language)
        services.confirm_appointment(
            appointment=visit, via="sms", now=now, reason=f"SMS reply {word}"
        )
        return _confirmed(visit, language)
    if word in CALL_BACK_WORDS:
        visit = next_visit(patients, now)
        patient = visit.patient if visit is not None else patients[0]
        if not CallBackRequest.objects.waiting().filter(patient=patient).exists():
            CallBackRequest.objects.create(
                patient=patient, appointment=visit, phone=patient.phone, requested_at=now
            )
            services.audit(
                actor=None,
                action="call_back_requested",
                patient=patient,
                appointment=visit,
                reason=f"SMS reply {word}",
                now=now,
            )
        return answer("call_back", language)
    return answer("help", language)


@transaction.atomic
def mark_called_back(call_back: CallBackRequest, *, now: datetime, actor: Actor) -> bool:
    """The desk rang the patient back; False if someone already had."""
    updated = (
        CallBackRequest.objects.waiting()
        .filter(pk=call_back.pk)
        .update(called_back_at=now, called_back_by=services.signed_in_or_none(actor))
    )
    if updated:
        services.audit(
            actor=actor,
            action="called_back",
            patient=call_back.patient,
            appointment=call_back.appointment,
            now=now,
        )
    return bool(updated)


@transaction.atomic
def record_delivery_report(
    *, message_sid: str, recipient: str, status: str, error_code: str, now: datetime
) -> int:
    """A delivery report: error 21610 turns SMS off for the recipient. Returns how many
    patient records changed."""
    if not _first_time(message_sid, f"status:{status}"[:30], now):
        return 0
    if error_code.strip() != UNSUBSCRIBED_ERROR:
        return 0
    return services.set_sms_consent_by_phone(
        recipient,
        consent=False,
        now=now,
        reason=f"Twilio error {UNSUBSCRIBED_ERROR}: the number has opted out",
    )
