"""Where card payments go: a small interface, an offline backend and Stripe.

`get_backend()` picks Stripe when STRIPE_SECRET_KEY is set and the offline backend otherwise
(`make run`: payments are taken at the desk and recorded, online payments are off). Tests point
the Stripe backend at localstripe through STRIPE_API_BASE.

A backend answers with what the processor said; the ledger (payments.services) decides what
it means. Amounts cross this boundary as `Money`, and leave it in minor units.
"""

import contextlib
from dataclasses import dataclass
from typing import Any, Protocol, cast

import stripe
from django.conf import settings
from django.utils.translation import gettext as _

from payments import declines
from treatments.money import Money

# Stripe error codes that are about the card (sent with a 402, or a 400 for a bad number).
CARD_CODES = {
    "card_declined",
    "expired_card",
    "incorrect_cvc",
    "invalid_cvc",
    "incorrect_number",
    "invalid_number",
    "invalid_expiry_month",
    "invalid_expiry_year",
    "processing_error",
    "authentication_required",
    "payment_intent_authentication_failure",
}

__all__ = [
    "BackendError",
    "Card",
    "ForgedEvent",
    "Intent",
    "OfflineBackend",
    "PaymentBackend",
    "StripeBackend",
    "get_backend",
]


class BackendError(Exception):
    """The processor refused (a declined card, a bad request), with a message for people in
    their language (never Stripe's own text) and, for a card problem, Stripe's `code`."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


def _refused(error: stripe.StripeError, fallback: str) -> BackendError:
    """A Stripe error in our own words: a card problem by its code (payments.declines),
    anything else by the caller's sentence. Stripe's English text stays in the logs."""
    if isinstance(error, stripe.CardError) or getattr(error, "code", None) in CARD_CODES:
        code = declines.code_of(error.error.to_dict() if error.error else {"code": error.code})
        return BackendError(declines.card_problem(code), code=code)
    if isinstance(error, stripe.APIConnectionError):
        return BackendError(declines.card_problem(declines.UNREACHABLE), code=declines.UNREACHABLE)
    return BackendError(fallback)


class ForgedEvent(Exception):
    """A webhook whose signature does not check out."""


@dataclass(frozen=True)
class Intent:
    """A payment the processor knows about: its id, the browser's secret and its status
    (Stripe's words: requires_payment_method, requires_action, succeeded, canceled...)."""

    id: str
    client_secret: str
    status: str
    failure: str = ""  # the processor's message when the last attempt failed


class PaymentBackend(Protocol):
    name: str
    online: bool
    publishable_key: str

    def start_payment(
        self, *, money: Money, metadata: dict[str, str], customer: str = "", method: str = ""
    ) -> Intent: ...

    def retrieve(self, intent_id: str) -> Intent: ...

    def cancel(self, intent_id: str) -> Intent: ...

    def refund(self, *, intent_id: str, money: Money) -> str: ...

    def read_event(self, payload: bytes, signature: str) -> dict[str, Any]: ...

    def save_card(self, method_id: str, *, email: str) -> "Card": ...

    def start_card_setup(self) -> str: ...

    def forget_card(self, method_id: str) -> None: ...

    def card_of_setup(self, setup_id: str) -> str: ...

    def pay_with(self, intent_id: str, method_id: str, *, customer: str = "") -> Intent: ...


@dataclass(frozen=True)
class Card:
    customer_id: str
    method_id: str
    brand: str
    last4: str


class OfflineBackend:
    """No processor: the desk takes the money (cash, an outside terminal) and records it."""

    name = "offline"
    online = False
    publishable_key = ""

    def start_payment(self, *, money, metadata, customer="", method="") -> Intent:
        raise BackendError(_("Online payments are off: you pay at the clinic."))

    def retrieve(self, intent_id: str) -> Intent:
        raise BackendError(_("Online payments are off: you pay at the clinic."))

    def cancel(self, intent_id: str) -> Intent:
        return Intent(id=intent_id, client_secret="", status="canceled")

    def refund(self, *, intent_id: str, money: Money) -> str:
        # The desk hands the money back; nothing to tell a processor.
        return ""

    def read_event(self, payload: bytes, signature: str) -> dict[str, Any]:
        raise ForgedEvent("Online payments are off; no webhooks are accepted.")

    def save_card(self, method_id: str, *, email: str) -> Card:
        raise BackendError(_("Online payments are off: no card can be kept on file."))

    def start_card_setup(self) -> str:
        raise BackendError(_("Online payments are off: you pay at the clinic."))

    def forget_card(self, method_id: str) -> None:
        return None

    def card_of_setup(self, setup_id: str) -> str:
        raise BackendError(_("Online payments are off: you pay at the clinic."))

    def pay_with(self, intent_id: str, method_id: str, *, customer: str = "") -> Intent:
        raise BackendError(_("Online payments are off: you pay at the clinic."))


class StripeBackend:
    """The stripe SDK, with its own client (keys and address from settings, no globals)."""

    name = "stripe"
    online = True

    def __init__(self) -> None:
        self.publishable_key = settings.STRIPE_PUBLISHABLE_KEY
        self.webhook_secret = settings.STRIPE_WEBHOOK_SECRET
        self.client = stripe.StripeClient(
            settings.STRIPE_SECRET_KEY,
            base_addresses={"api": settings.STRIPE_API_BASE},
            max_network_retries=2,
        )

    @staticmethod
    def _intent(pi: Any) -> Intent:
        return Intent(
            id=pi.id,
            client_secret=pi.client_secret or "",
            status=pi.status,
            failure=declines.code_of(pi.to_dict().get("last_payment_error")),
        )

    def start_payment(self, *, money, metadata, customer="", method="") -> Intent:
        params: dict[str, Any] = {
            "amount": money.minor,
            "currency": money.currency.lower(),
            "metadata": metadata,
        }
        if customer:
            params["customer"] = customer
        if method:
            # A saved or just-made card: confirm now (off-session at the desk).
            params.update(payment_method=method, confirm=True)
        try:
            return self._intent(self.client.v1.payment_intents.create(params=cast(Any, params)))
        except stripe.StripeError as error:
            raise _refused(error, _("The card payment was refused.")) from error

    def retrieve(self, intent_id: str) -> Intent:
        return self._intent(self.client.v1.payment_intents.retrieve(intent_id))

    def cancel(self, intent_id: str) -> Intent:
        """Cancel an intent and say where it ended. Stripe refuses to cancel one that has
        succeeded (taken between our last look and now) or was cancelled already: the intent
        is then read again, so the caller learns that the money was taken."""
        try:
            return self._intent(self.client.v1.payment_intents.cancel(intent_id))
        except stripe.InvalidRequestError:
            pass
        except stripe.StripeError as error:
            raise _refused(error, _("The payment service is unreachable.")) from error
        try:
            return self.retrieve(intent_id)
        except stripe.StripeError as error:
            raise _refused(error, _("The payment service is unreachable.")) from error

    def refund(self, *, intent_id: str, money: Money) -> str:
        try:
            refund = self.client.v1.refunds.create(
                params={"payment_intent": intent_id, "amount": money.minor}
            )
        except stripe.StripeError as error:
            raise _refused(error, _("The refund was refused.")) from error
        return refund.id

    def start_card_setup(self) -> str:
        """A SetupIntent's client secret: the browser saves a card through it."""
        try:
            setup = self.client.v1.setup_intents.create(params={"usage": "off_session"})
        except stripe.StripeError as error:
            raise _refused(
                error, _("Card payments are unavailable just now. Try again later.")
            ) from error
        return setup.client_secret or ""

    def forget_card(self, method_id: str) -> None:
        # Already detached or gone: forgotten either way.
        with contextlib.suppress(stripe.InvalidRequestError):
            self.client.v1.payment_methods.detach(method_id)

    def card_of_setup(self, setup_id: str) -> str:
        """The card a SetupIntent saved, as Stripe (not the browser) reports it."""
        try:
            setup = self.client.v1.setup_intents.retrieve(setup_id)
        except stripe.StripeError as error:
            raise _refused(error, _("That card could not be found; try again.")) from error
        if setup.status != "succeeded" or not setup.payment_method:
            raise BackendError(_("The card was not saved; try again."))
        method = setup.payment_method
        return method if isinstance(method, str) else method.id

    def pay_with(self, intent_id: str, method_id: str, *, customer: str = "") -> Intent:
        """Confirm a PaymentIntent with a saved card (status may be requires_action: 3-D
        Secure, finished by the browser); `customer` when the card is kept on file."""
        params: dict[str, Any] = {"payment_method": method_id}
        if customer:
            params["customer"] = customer
        try:
            self.client.v1.payment_intents.update(intent_id, params=cast(Any, params))
            return self._intent(self.client.v1.payment_intents.confirm(intent_id))
        except stripe.StripeError as error:
            raise _refused(error, _("The payment did not go through. Try again.")) from error

    def read_event(self, payload: bytes, signature: str) -> dict[str, Any]:
        try:
            event = stripe.Webhook.construct_event(payload, signature, self.webhook_secret)
        except (ValueError, stripe.SignatureVerificationError) as error:
            raise ForgedEvent(str(error)) from error
        return event.to_dict()

    def save_card(self, method_id: str, *, email: str) -> Card:
        try:
            customer = self.client.v1.customers.create(params={"email": email})
            method = self.client.v1.payment_methods.attach(
                method_id, params={"customer": customer.id}
            )
        except stripe.StripeError as error:
            raise _refused(error, _("The card could not be saved. Try again.")) from error
        card = method.card
        return Card(
            customer_id=customer.id,
            method_id=method.id,
            brand=(card.brand if card else "") or "",
            last4=(card.last4 if card else "") or "",
        )


def get_backend() -> PaymentBackend:
    if settings.STRIPE_SECRET_KEY:
        return StripeBackend()
    return OfflineBackend()
