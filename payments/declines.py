"""Why a card payment did not go through, in our own words and the patient's language.

Stripe's own texts (`message`, `user_message`) are English and never reach a patient: its
error and decline codes are kept (in `Payment.failure`, in `BackendError.code`) and turned into
one of these sentences when shown."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

__all__ = ["UNREACHABLE", "card_problem", "code_of", "sentences"]

DECLINED = gettext_lazy("Your card was declined. Try another card, or pay at the clinic.")
UNREACHABLE = "service_unreachable"

_SENTENCES: dict[str, Promise] = {
    "insufficient_funds": gettext_lazy("The card has insufficient funds. Try another card."),
    "expired_card": gettext_lazy("The card has expired. Try another card."),
    "incorrect_cvc": gettext_lazy("The security code (CVC) is not right. Check it and try again."),
    "invalid_cvc": gettext_lazy("The security code (CVC) is not right. Check it and try again."),
    "incorrect_number": gettext_lazy("The card number is not right. Check it and try again."),
    "invalid_number": gettext_lazy("The card number is not right. Check it and try again."),
    "invalid_expiry_month": gettext_lazy("The expiry date is not right. Check it and try again."),
    "invalid_expiry_year": gettext_lazy("The expiry date is not right. Check it and try again."),
    "processing_error": gettext_lazy(
        "The bank could not process the card just now. Try again in a moment."
    ),
    "payment_intent_authentication_failure": gettext_lazy(
        "Your bank did not confirm the payment. Try again, or use another card."
    ),
    "authentication_required": gettext_lazy(
        "Your bank asks you to confirm this payment. Try again and follow its steps."
    ),
    # What Stripe.js says of a card form not filled in (its own codes).
    "incomplete_number": gettext_lazy("The card number is not complete."),
    "incomplete_cvc": gettext_lazy("The security code (CVC) is not complete."),
    "incomplete_expiry": gettext_lazy("The expiry date is not complete."),
    "incomplete_zip": gettext_lazy("The ZIP code is not complete."),
    "invalid_expiry_year_past": gettext_lazy("The card has expired. Try another card."),
    "invalid_expiry_month_past": gettext_lazy("The card has expired. Try another card."),
    UNREACHABLE: gettext_lazy(
        "We could not reach the payment service. Try again in a moment, or pay at the clinic."
    ),
}


def code_of(error: dict | None) -> str:
    """The code of a Stripe error object (`last_payment_error`, an API error body): the
    bank's decline code when there is one. Empty when there is no error."""
    if not error:
        return ""
    return str(error.get("decline_code") or error.get("code") or "card_declined")


def card_problem(code: str) -> str:
    """Our sentence for a Stripe error or decline code; any other decline (lost, stolen,
    do not honour, a text stored before codes were kept) is simply "declined"."""
    return str(_SENTENCES.get(code, DECLINED))


def sentences() -> dict[str, str]:
    """Every sentence by code, in the active language, for the pay page's script (Stripe.js
    reports a card problem in the browser by the same codes); "card_declined" for the rest."""
    return {
        "card_declined": str(DECLINED),
        **{code: str(text) for code, text in _SENTENCES.items()},
    }
