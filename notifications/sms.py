"""Sending SMS: one small interface, a backend chosen by settings.SMS_BACKEND.

`ConsoleSMSBackend` (the default) prints, `MemorySMSBackend` keeps messages in a list for tests,
`FileSMSBackend` appends a line per message to a file (tests and the benchmark count deliveries
across processes with it), `TwilioSMSBackend` posts to Twilio's REST API.
"""

import base64
import hashlib
import hmac
import json
import logging
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SMSMessage:
    to: str
    body: str
    reference: str = ""  # our outbox key: lets a test or the provider's log spot a duplicate


class SMSError(Exception):
    """The provider refused or could not be reached; the dispatcher retries later."""


class RecipientOptedOut(SMSError):
    """The provider will not deliver to this number: it opted out (Twilio error 21610).
    Retrying cannot help; the dispatcher turns the patient's SMS reminders off instead."""


class BaseSMSBackend:
    def send(self, message: SMSMessage) -> str:
        """Hand one message to the provider and return its message id. Raise SMSError."""
        raise NotImplementedError


class ConsoleSMSBackend(BaseSMSBackend):
    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send(self, message: SMSMessage) -> str:
        self.stream.write(f"SMS to {message.to}: {message.body}\n")
        self.stream.flush()
        return f"console-{message.reference}"


class MemorySMSBackend(BaseSMSBackend):
    """Keeps every message in the class-level `outbox` list (thread-safe)."""

    outbox: list[SMSMessage] = []
    _lock = threading.Lock()

    def send(self, message: SMSMessage) -> str:
        with self._lock:
            self.outbox.append(message)
        return f"memory-{len(self.outbox)}"


class FileSMSBackend(BaseSMSBackend):
    """Appends `reference<TAB>to<TAB>body` lines to settings.SMS_FILE_PATH, after waiting
    settings.SMS_SEND_DELAY seconds to play a slow provider."""

    def send(self, message: SMSMessage) -> str:
        delay = float(getattr(settings, "SMS_SEND_DELAY", 0) or 0)
        if delay:
            time.sleep(delay)
        line = "\t".join((message.reference, message.to, message.body.replace("\n", " ")))
        # One write() of one line to a file opened for appending lands whole, even from
        # several processes at once.
        with open(settings.SMS_FILE_PATH, "a", encoding="utf-8") as file:
            file.write(line + "\n")
        return f"file-{message.reference}"


class TwilioSMSBackend(BaseSMSBackend):
    """Twilio's Messages API over plain urllib; `opener` is replaceable for tests."""

    api = "https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json"

    def __init__(self, opener=None, timeout: float = 10):
        self.account_sid = settings.TWILIO_ACCOUNT_SID
        self.auth_token = settings.TWILIO_AUTH_TOKEN
        self.from_number = settings.TWILIO_FROM_NUMBER
        self.opener = opener or urllib.request.build_opener()
        self.timeout = timeout

    def send(self, message: SMSMessage) -> str:
        if not (self.account_sid and self.auth_token and self.from_number):
            raise SMSError("Twilio is not configured: set TWILIO_ACCOUNT_SID, _AUTH_TOKEN, _FROM.")
        fields = {"To": message.to, "From": self.from_number, "Body": message.body}
        if settings.TWILIO_STATUS_CALLBACK_URL:  # delivery reports: notifications.views
            fields["StatusCallback"] = settings.TWILIO_STATUS_CALLBACK_URL
        data = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(  # noqa: S310 (a fixed https URL)
            self.api.format(sid=self.account_sid), data=data, method="POST"
        )
        credentials = f"{self.account_sid}:{self.auth_token}".encode()
        request.add_header("Authorization", "Basic " + base64.b64encode(credentials).decode())
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                payload = json.loads(response.read().decode() or "{}")
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:300]
            if _error_code(detail) == 21610:
                raise RecipientOptedOut(f"Twilio answered {error.code}: {detail}") from error
            raise SMSError(f"Twilio answered {error.code}: {detail}") from error
        except (urllib.error.URLError, TimeoutError, ValueError) as error:
            raise SMSError(f"Twilio could not be reached: {error}") from error
        return payload.get("sid", "")


def _error_code(body: str) -> int | None:
    """The `code` of Twilio's JSON error body, if it has one."""
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    code = payload.get("code") if isinstance(payload, dict) else None
    return code if isinstance(code, int) else None


def get_backend() -> BaseSMSBackend:
    return import_string(settings.SMS_BACKEND)()


class SenderRateLimit:
    """At most `per_second` SMS a second from one sender, counted in the cache so that every
    dispatcher process shares the count (Redis in production).

    `reserve(now)` books the first second from now with room left and returns it: now's second
    if the sender may still send in it, else a later one, for the message to wait for. A burst
    is spread over the seconds after it, in order, instead of being refused by the provider.
    Counters are atomic (`incr`), so two dispatchers never book the same place; a hint of the
    first second that may have room keeps a long burst from probing every full second again.
    """

    def __init__(self, sender: str, per_second: int, cache=None):
        from django.core.cache import cache as default_cache

        self.sender, self.per_second = sender, per_second
        self.cache = cache or default_cache

    def _key(self, second: int) -> str:
        return f"sms-rate:{self.sender}:{second}"

    def reserve(self, now: datetime) -> datetime:
        try:
            return self._reserve(now)
        except Exception as error:  # the cache is down: send now, the provider queues
            log.warning("SMS rate limit not applied (%s)", type(error).__name__)
            return now

    def _reserve(self, now: datetime) -> datetime:
        current = int(now.timestamp())
        hint_key = f"sms-rate:{self.sender}:next"
        second = max(current, self.cache.get(hint_key) or current)
        while True:
            # Kept until a minute after its second: long enough for every dispatcher to see it.
            keep = second - current + 60
            self.cache.add(self._key(second), 0, timeout=keep)
            taken = self.cache.incr(self._key(second))
            if taken <= self.per_second:
                if taken == self.per_second:
                    self.cache.set(hint_key, second + 1, timeout=keep)
                return now if second == current else datetime.fromtimestamp(second, UTC)
            second += 1


def sender_rate_limit(backend: BaseSMSBackend) -> SenderRateLimit | None:
    """The rate limit of the number this backend sends from (settings.SMS_MAX_PER_SECOND), or
    None when there is no limit."""
    per_second = settings.SMS_MAX_PER_SECOND
    if per_second <= 0:
        return None
    sender = getattr(backend, "from_number", "") or type(backend).__name__
    return SenderRateLimit(sender, per_second)


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """X-Twilio-Signature: HMAC-SHA1 over the URL followed by each POST key and value, sorted
    by key, base64-encoded."""
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_is_valid(auth_token: str, url: str, params: dict[str, str], signature: str) -> bool:
    if not auth_token or not signature:
        return False
    return hmac.compare_digest(twilio_signature(auth_token, url, params), signature)
