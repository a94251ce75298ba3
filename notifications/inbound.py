"""What the SMS provider tells us: a patient's reply, and delivery reports.

Twilio's default opt-out keywords turn SMS reminders off (Twilio itself stops delivering to a
number that sent one, so we must stop queueing), its opt-in keywords turn them back on; any
other reply is ignored. A delivery refused with error 21610 (the number has opted out with
Twilio, perhaps from another of the clinic's services) turns them off too. Numbers are matched
exactly in E.164 (booking.services.patients_with_phone). Each webhook is acted on once per
MessageSid (models.ProviderEvent), so a retried or replayed request changes nothing.
"""

from datetime import datetime

from django.db import transaction

from booking import services
from notifications.models import ProviderEvent

__all__ = [
    "OPT_IN_WORDS",
    "OPT_OUT_WORDS",
    "UNSUBSCRIBED_ERROR",
    "consent_from_reply",
    "record_delivery_report",
    "record_reply",
]

# https://help.twilio.com/articles/223134027 (Twilio's default opt-out and opt-in keywords)
OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})
# "Attempt to send to unsubscribed recipient"
UNSUBSCRIBED_ERROR = "21610"


def consent_from_reply(body: str) -> bool | None:
    """False for an opt-out keyword, True for an opt-in one, None for anything else. Like
    Twilio: the whole message is the keyword, in any case, spaces and a full stop aside."""
    word = body.strip().rstrip(".!").strip().upper()
    if word in OPT_OUT_WORDS:
        return False
    if word in OPT_IN_WORDS:
        return True
    return None


def _first_time(message_sid: str, event: str, now: datetime) -> bool:
    _, created = ProviderEvent.objects.get_or_create(
        message_sid=message_sid, event=event, defaults={"received_at": now}
    )
    return created


@transaction.atomic
def record_reply(*, message_sid: str, sender: str, body: str, now: datetime) -> int:
    """A patient's reply: how many patient records changed their SMS consent."""
    if not _first_time(message_sid, "reply", now):
        return 0
    consent = consent_from_reply(body)
    if consent is None:
        return 0
    word = body.strip().upper()[:20]
    return services.set_sms_consent_by_phone(
        sender, consent=consent, now=now, reason=f"SMS reply {word}"
    )


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
