"""Every write to the ledger: take, start, settle, refund, charge a fee, let go of an unpaid
booking. One transaction each; every money action is written to booking's audit trail.

Online payments settle only from what the processor says: its signed webhook
(`apply_event`) or the server asking it directly (`settle_from_backend`), both through the
same idempotent transition, so the browser's word is never taken and a webhook and a browser
return arriving in either order settle a payment once.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from booking import services as booking_services
from booking.models import Appointment, Patient, TreatmentPlan
from booking.services import BookingError, audit
from booking.services.audit import Actor
from payments import courses, declines, receipts
from payments.backends import BackendError, Intent, PaymentBackend, get_backend
from payments.models import TAKEN_STATES, BookingTerms, Payment, PaymentEvent, Refund, SavedCard
from payments.policy import freeze_terms
from treatments.money import Money

__all__ = [
    "PaymentRefused",
    "pay_pending",
    "apply_event",
    "book_with_deposit",
    "charge_fee",
    "email_receipt",
    "end_course",
    "sell_course",
    "record_payment",
    "refund",
    "release_unpaid",
    "remove_card",
    "ask_for_card",
    "ask_online",
    "OnlineDue",
    "online_due",
    "save_card",
    "settle_from_backend",
    "start_deposit",
    "terms_of",
]

# A second "Email a receipt" this soon after one is a double click: nothing more is sent.
RECEIPT_COPY_WINDOW = timedelta(minutes=1)

_NOT_TAKEN = {Payment.State.FAILED, Payment.State.CANCELLED}
_SETTLED = {*_NOT_TAKEN, *TAKEN_STATES}


class PaymentRefused(BookingError):
    """A money action that cannot be done, with a message for the person asking."""

    status_code = 409


def terms_of(appointment: Appointment, *, now: datetime) -> BookingTerms:
    """The terms frozen when the visit was booked (frozen now for visits booked before
    payments existed)."""
    try:
        return appointment.terms
    except BookingTerms.DoesNotExist:
        return freeze_terms(appointment=appointment, now=now)


def _audit(
    action: str, payment: Payment, *, actor: Actor, now: datetime, reason: str = "", **changes: Any
) -> None:
    audit(
        actor=actor,
        action=action,
        appointment=payment.appointment,
        patient=payment.patient,
        plan=payment.plan,
        reason=reason,
        changes={
            "payment": payment.pk,
            "amount": str(payment.amount),
            "currency": payment.currency,
            **changes,
        },
        now=now,
    )


def record_payment(
    *,
    appointment: Appointment | None = None,
    plan: TreatmentPlan | None = None,
    kind: str,
    method: str,
    money: Money,
    actor: Actor,
    now: datetime,
    note: str = "",
    fee: str = "",
    backend: PaymentBackend | None = None,
) -> Payment:
    """Money taken at the desk for a visit (or a whole course: `plan`): cash or an outside
    terminal (recorded as taken), or the patient's card on file (charged now)."""
    target = appointment or plan
    assert target is not None
    if money.amount <= 0:
        raise PaymentRefused(_("Enter an amount above zero."))
    if money.currency != target.location.currency:
        raise PaymentRefused(
            _("This clinic takes %(currency)s.") % {"currency": target.location.currency}
        )
    backend = backend or get_backend()
    with transaction.atomic():
        payment = Payment(
            kind=kind,
            method=method,
            fee=fee,
            patient=target.patient,
            location=target.location,
            appointment=appointment,
            plan=plan or (appointment.plan if appointment else None),
            amount=money.amount,
            currency=money.currency,
            backend="offline",
            note=note.strip()[:200],
            taken_by=booking_services.signed_in_or_none(actor),
            created_at=now,
        )
        if method == Payment.Method.CARD_ON_FILE:
            card = SavedCard.objects.filter(patient=target.patient).first()
            if card is None or not backend.online:
                raise PaymentRefused(_("No card on file: take cash or use the card terminal."))
            try:
                intent = backend.start_payment(
                    money=money,
                    metadata={"payment_for": str(target), "kind": kind},
                    customer=card.customer_id,
                    method=card.method_id,
                )
            except BackendError as error:
                raise PaymentRefused(str(error)) from error
            payment.backend, payment.backend_id = backend.name, intent.id
            if intent.status == "succeeded":
                payment.state, payment.succeeded_at = Payment.State.SUCCEEDED, now
        else:
            payment.state, payment.succeeded_at = Payment.State.SUCCEEDED, now
        try:
            with transaction.atomic():
                payment.save()
        except IntegrityError as error:
            raise PaymentRefused(_("This fee has already been charged.")) from error
        _audit("payment_taken", payment, actor=actor, now=now, method=method, kind=kind)
        if payment.state == Payment.State.SUCCEEDED:
            receipts.payment_receipt(payment, now=now)
    return payment


def ask_online(*, appointment: Appointment, now: datetime) -> None:
    """What a visit the patient booked themselves (web flow or API) owes online, written in
    the booking's transaction (payments.receivers, on `appointment_booked`), so every
    patient door meets it: a pending deposit (its intent is asked for by `start_deposit`
    after the booking commits) or a card due by PAYMENT_HOLD_MINUTES. Unpaid, or with no
    card, the visit and those booked with it are let go by `release_unpaid`. Nothing when
    online payments are off (the patient pays at the clinic)."""
    backend = get_backend()
    if not backend.online:
        return
    terms = terms_of(appointment, now=now)
    if terms.deposit:
        _new_deposit(appointment, terms, now=now, backend=backend)
    elif terms.card_on_file_required and not _has_card(appointment.patient_id, backend):
        terms.card_due_by = now + timedelta(minutes=settings.PAYMENT_HOLD_MINUTES)
        terms.save(update_fields=["card_due_by"])


def _new_deposit(
    appointment: Appointment, terms: BookingTerms, *, now: datetime, backend: PaymentBackend
) -> Payment:
    """The visit's pending online deposit, as its terms set it; its intent comes later."""
    return Payment.objects.create(
        kind=Payment.Kind.DEPOSIT,
        method=Payment.Method.ONLINE,
        patient=appointment.patient,
        location=appointment.location,
        appointment=appointment,
        plan=appointment.plan,
        amount=terms.deposit,
        currency=terms.currency,
        backend=backend.name,
        created_at=now,
    )


def _has_card(patient_id: int, backend: PaymentBackend) -> bool:
    return SavedCard.objects.filter(patient_id=patient_id, backend=backend.name).exists()


def _attach_intent(
    payment: Payment, *, now: datetime, backend: PaymentBackend, method: str = ""
) -> Payment:
    """Ask the processor for a pending online payment's intent. Refused by the processor:
    the payment is cancelled (nothing was taken; the desk takes it) and PaymentRefused."""
    metadata = {"kind": payment.kind, "payment": str(payment.pk)}
    if payment.appointment_id:
        metadata["appointment"] = str(payment.appointment_id)
    if payment.plan_id:
        metadata["plan"] = str(payment.plan_id)
    try:
        intent = backend.start_payment(money=payment.money, metadata=metadata, method=method)
    except BackendError as error:
        Payment.objects.filter(pk=payment.pk, state=Payment.State.PENDING).update(
            state=Payment.State.CANCELLED, failure=error.code
        )
        raise PaymentRefused(str(error)) from error
    with transaction.atomic():
        payment.backend, payment.backend_id = backend.name, intent.id
        payment.client_secret = intent.client_secret
        payment.save(update_fields=["backend", "backend_id", "client_secret"])
        _audit("payment_started", payment, actor=None, now=now)
    if intent.status in ("succeeded", "canceled"):
        # The processor's own answer to our server (a card confirmed at once), not the
        # browser's: settled now; its webhook later finds the payment settled.
        payment = _settle(payment.pk, intent.status, now=now, backend=backend)
    return payment


def start_deposit(
    *,
    appointment: Appointment,
    now: datetime,
    backend: PaymentBackend | None = None,
    method: str = "",
) -> Payment | None:
    """Ask the processor for the visit's deposit: a pending Payment whose client secret the
    patient's browser confirms (Stripe Elements). None when no deposit is due or payments
    are offline (the patient pays at the clinic)."""
    backend = backend or get_backend()
    terms = terms_of(appointment, now=now)
    if not terms.deposit or not backend.online:
        return None
    payment = (
        appointment.payments.filter(kind=Payment.Kind.DEPOSIT).exclude(state__in=_NOT_TAKEN).first()
    )
    if payment is not None and payment.backend_id:
        return payment
    if payment is None:
        payment = _new_deposit(appointment, terms, now=now, backend=backend)
    return _attach_intent(payment, now=now, backend=backend, method=method)


@dataclass(frozen=True)
class OnlineDue:
    """What a patient's own booking still owes online, for the door to show: a payment to
    confirm in the browser (`payment`, its `client_secret`), or a card to keep on file; held
    until `due_by`, then let go (`release_unpaid`)."""

    kind: str  # "deposit", "course" or "card"
    amount: Money | None
    due_by: datetime
    payment: Payment | None = None

    @property
    def client_secret(self) -> str:
        return self.payment.client_secret if self.payment else ""


def online_due(
    *,
    appointment: Appointment,
    now: datetime,
    pay_course: bool = False,
    backend: PaymentBackend | None = None,
) -> OnlineDue | None:
    """After a patient's own booking has committed: start what its terms ask online (see
    `ask_online`) and say what is due. `pay_course`: the patient chose to pay the whole
    course up front (`sell_course`), which replaces the first visit's deposit. None when
    nothing is due online (offline, nothing asked, or the processor is unreachable: the
    desk takes it)."""
    backend = backend or get_backend()
    if not backend.online:
        return None
    hold = timedelta(minutes=settings.PAYMENT_HOLD_MINUTES)
    payment: Payment | None
    try:
        if pay_course and appointment.plan is not None:
            payment = sell_course(
                plan=appointment.plan,
                method=Payment.Method.ONLINE,
                actor=None,
                now=now,
                backend=backend,
            )
        else:
            payment = start_deposit(appointment=appointment, now=now, backend=backend)
    except PaymentRefused:
        return None
    if payment is not None and payment.state == Payment.State.PENDING:
        return OnlineDue(
            kind=payment.kind,
            amount=payment.money,
            due_by=payment.created_at + hold,
            payment=payment,
        )
    terms = terms_of(appointment, now=now)
    if terms.card_due_by is not None and not _has_card(appointment.patient_id, backend):
        return OnlineDue(kind="card", amount=None, due_by=terms.card_due_by)
    return None


def pay_pending(
    payment: Payment, *, setup_id: str, now: datetime, backend: PaymentBackend | None = None
) -> Intent:
    """Charge a pending online payment with the card a SetupIntent saved (looked up with
    the processor, not taken from the browser). A card that needs no 3-D Secure settles
    now; one that does stays pending until the bank answers (its webhook settles it)."""
    backend = backend or get_backend()
    try:
        method = backend.card_of_setup(setup_id)
    except BackendError as error:
        raise PaymentRefused(str(error)) from error
    customer = ""
    visit = payment.appointment or (
        payment.plan.appointments.order_by("start").first() if payment.plan else None
    )
    if visit is not None and terms_of(visit, now=now).card_on_file_required:
        # The terms keep a card on file: the deposit's card is the one kept.
        card = save_card(patient=payment.patient, method_id=method, now=now, backend=backend)
        method, customer = card.method_id, card.customer_id
    try:
        intent = backend.pay_with(payment.backend_id, method, customer=customer)
    except BackendError as error:
        raise PaymentRefused(str(error)) from error
    if intent.status in ("succeeded", "canceled"):
        _settle(payment.pk, intent.status, now=now, backend=backend)
    return intent


def book_with_deposit(
    *, now: datetime, method: str = "", backend: PaymentBackend | None = None, **booking: Any
) -> tuple[Appointment, Payment | None]:
    """Book a visit (booking.services.book_appointment's arguments), then ask for its
    deposit. The booking comes first: a time someone else took (SlotTaken) is refused before
    any card is charged, and a deposit that succeeds for a visit let go meanwhile is
    refunded by `_settle`."""
    appointment = booking_services.book_appointment(now=now, **booking)
    return appointment, start_deposit(
        appointment=appointment, now=now, method=method, backend=backend
    )


def _settle(
    payment_id: int, status: str, *, now: datetime, failure: str = "", backend: PaymentBackend
) -> Payment:
    """Move a payment to what the processor reported; a settled payment stays as it is,
    except one we recorded as not taken (cancelled, failed) that the processor says it took
    after all (a late `payment_intent.succeeded`): the processor's word about money wins, so
    it is recorded as taken (audited as late). A deposit that succeeded for a visit no longer
    held (let go, lost), a course paid online whose visits were all let go, or a late one
    that another payment has replaced meanwhile, is refunded in full."""
    late = ""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("appointment")
            .get(pk=payment_id)
        )
        if payment.state in _SETTLED:
            if status != "succeeded" or payment.state not in _NOT_TAKEN:
                return payment
            late = payment.state
        if status == "succeeded":
            payment.state, payment.succeeded_at = Payment.State.SUCCEEDED, now
        elif status == "canceled":
            payment.state = Payment.State.CANCELLED
        elif status == "payment_failed" and payment.method == Payment.Method.ONLINE:
            # The patient's card was declined: Stripe takes another card on the same intent,
            # so the payment stays pending (the reason kept for the pay page) until it is paid
            # or its hold runs out (`release_unpaid`).
            if payment.failure != failure[:200]:
                payment.failure = failure[:200]
                payment.save(update_fields=["failure"])
                _audit("payment_declined", payment, actor=None, now=now, code=payment.failure)
            return payment
        elif status == "payment_failed":
            payment.state, payment.failure = Payment.State.FAILED, failure[:200]
        else:
            return payment
        payment.save(update_fields=["state", "succeeded_at", "failure"])
        marks: dict[str, Any] = {"late": True, "recorded_as": late} if late else {}
        _audit(f"payment_{payment.state}", payment, actor=None, now=now, **marks)
        if payment.state == Payment.State.SUCCEEDED:
            receipts.payment_receipt(payment, now=now)
        reason = ""
        if payment.state == Payment.State.SUCCEEDED:
            if not _holds_time(payment):
                reason = "The time was no longer held."
            elif late and _replaced(payment):
                reason = "Paid another way meanwhile."
    if reason:
        refund(
            payment=payment,
            money=payment.money,
            reason=reason,
            actor=None,
            now=now,
            backend=backend,
        )
        payment.refresh_from_db()
    return payment


_EVENT_STATUS = {
    "payment_intent.succeeded": "succeeded",
    "payment_intent.payment_failed": "payment_failed",
    "payment_intent.canceled": "canceled",
}


def apply_event(
    event: dict[str, Any], *, now: datetime, backend: PaymentBackend | None = None
) -> bool:
    """Apply one verified webhook event. False when the event was seen before (a replay:
    nothing changes)."""
    backend = backend or get_backend()
    try:
        with transaction.atomic():
            PaymentEvent.objects.create(
                event_id=event["id"], type=event.get("type", ""), payload=event, received_at=now
            )
    except IntegrityError:
        return False
    status = _EVENT_STATUS.get(event.get("type", ""))
    intent = (event.get("data") or {}).get("object") or {}
    if status is None or not intent.get("id"):
        return True
    payment = Payment.objects.filter(backend=backend.name, backend_id=intent["id"]).first()
    if payment is not None:
        error = intent.get("last_payment_error") or {}
        _settle(payment.pk, status, now=now, failure=declines.code_of(error), backend=backend)
    return True


def settle_from_backend(
    payment: Payment, *, now: datetime, backend: PaymentBackend | None = None
) -> Payment:
    """The patient is back from paying: ask the processor, not the browser, how it went."""
    backend = backend or get_backend()
    if payment.state in _SETTLED or not payment.backend_id or not backend.online:
        return payment
    intent = backend.retrieve(payment.backend_id)
    status = intent.status
    if status == "requires_payment_method" and intent.failure:
        status = "payment_failed"  # declined; a new intent has no error and stays pending
    return _settle(payment.pk, status, now=now, failure=intent.failure, backend=backend)


def refund(
    *,
    payment: Payment,
    money: Money,
    reason: str,
    actor: Actor,
    now: datetime,
    backend: PaymentBackend | None = None,
) -> Refund:
    """Give back all or part of a payment; the reason is required and recorded."""
    reason = reason.strip()
    if not reason:
        raise PaymentRefused(_("Give a reason for the refund."))
    backend = backend or get_backend()
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if money.currency != payment.currency:
            raise PaymentRefused(
                _("This payment was in %(currency)s.") % {"currency": payment.currency}
            )
        if money.amount <= 0:
            raise PaymentRefused(_("Enter an amount above zero."))
        if payment.refundable < money:
            raise PaymentRefused(
                _("At most %(amount)s of this payment can be refunded.")
                % {"amount": payment.refundable}
            )
        backend_id = ""
        if payment.backend_id and payment.backend != "offline":
            try:
                backend_id = backend.refund(intent_id=payment.backend_id, money=money)
            except BackendError as error:
                raise PaymentRefused(str(error)) from error
        row = Refund.objects.create(
            payment=payment,
            amount=money.amount,
            currency=money.currency,
            reason=reason[:200],
            backend_id=backend_id,
            by=booking_services.signed_in_or_none(actor),
            created_at=now,
        )
        payment.refunded += money.amount
        payment.state = (
            Payment.State.REFUNDED
            if payment.refunded == payment.amount
            else Payment.State.PARTLY_REFUNDED
        )
        payment.save(update_fields=["refunded", "state"])
        _audit(
            "payment_refunded",
            payment,
            actor=actor,
            now=now,
            reason=reason,
            refunded=str(money.amount),
        )
        receipts.refund_receipt(row, now=now)
    return row


def email_receipt(*, payment: Payment, actor: Actor, now: datetime) -> int:
    """Email the patient a copy of a payment's receipt (and its refunds'), through the
    outbox; audited. Returns how many receipts were queued."""
    if payment.state not in TAKEN_STATES:
        raise PaymentRefused(_("Only a payment that was taken has a receipt."))
    if not payment.patient.email:
        raise PaymentRefused(_("The patient has no email address."))
    with transaction.atomic():
        # One copy at a time: a double click (or two desks) waits here, then finds the copy.
        Payment.objects.select_for_update().filter(pk=payment.pk).first()
        if receipts.copy_queued_since(payment, now - RECEIPT_COPY_WINDOW):
            raise PaymentRefused(_("A copy of this receipt was sent a moment ago."))
        queued = receipts.send_copy(payment, now=now)
        _audit("receipt_emailed", payment, actor=actor, now=now, receipts=queued)
    return queued


def charge_fee(
    *,
    appointment: Appointment,
    actor: Actor,
    now: datetime,
    method: str,
    backend: PaymentBackend | None = None,
) -> Payment | None:
    """The late-cancel or no-show fee of the terms the visit was booked under, charged once.
    None when a prepaid course session was used up instead (payments.courses)."""
    if appointment.status == Appointment.Status.NO_SHOW:
        fee, field = Payment.Fee.NO_SHOW, "no_show_fee"
    elif appointment.status == Appointment.Status.CANCELLED and appointment.late_cancellation:
        fee, field = Payment.Fee.LATE_CANCEL, "late_cancel_fee"
    else:
        raise PaymentRefused(_("Only a no-show or a late cancellation has a fee."))
    terms = terms_of(appointment, now=now)
    if courses.use_prepaid_session(appointment=appointment, reason=fee, actor=actor, now=now):
        return None
    money = terms.money(field)
    if not money:
        raise PaymentRefused(_("The terms this visit was booked under have no such fee."))
    return record_payment(
        appointment=appointment,
        kind=Payment.Kind.FEE,
        method=method,
        money=money,
        actor=actor,
        now=now,
        fee=fee,
        backend=backend,
        note=_stored_words(Payment.Fee(fee).label),
    )


def _stored_words(text) -> str:
    """A label kept with a record in the source language, whoever's language is active:
    records are read by people of either language, and the page translates its labels."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


def ask_for_card(
    *, appointment: Appointment, now: datetime, backend: PaymentBackend | None = None
) -> bool:
    """The patient booked online under terms that keep a card on file and has none: the
    visit is held for PAYMENT_HOLD_MINUTES while they save one (`save_card`), then let go by
    `release_unpaid`. False when no card is needed (offline, not required, one on file)."""
    backend = backend or get_backend()
    terms = terms_of(appointment, now=now)
    if not (backend.online and terms.card_on_file_required and appointment.is_active):
        return False
    if SavedCard.objects.filter(patient_id=appointment.patient_id, backend=backend.name).exists():
        return False
    terms.card_due_by = now + timedelta(minutes=settings.PAYMENT_HOLD_MINUTES)
    terms.save(update_fields=["card_due_by"])
    return True


def save_card(
    *, patient: Patient, method_id: str, now: datetime, backend: PaymentBackend | None = None
) -> SavedCard:
    backend = backend or get_backend()
    try:
        card = backend.save_card(method_id, email=patient.email)
    except BackendError as error:
        raise PaymentRefused(str(error)) from error
    BookingTerms.objects.filter(appointment__patient=patient, card_due_by__isnull=False).update(
        card_due_by=None
    )
    saved, _ = SavedCard.objects.update_or_create(
        patient=patient,
        defaults={
            "backend": backend.name,
            "customer_id": card.customer_id,
            "method_id": card.method_id,
            "brand": card.brand,
            "last4": card.last4,
            "saved_at": now,
        },
    )
    audit(
        actor=None,
        action="card_saved",
        patient=patient,
        changes={"card": f"{card.brand} {card.last4}"},
        now=now,
    )
    return saved


def remove_card(
    *, patient: Patient, now: datetime, actor: Actor = None, backend: PaymentBackend | None = None
) -> bool:
    """Forget the patient's card on file (and detach it at the processor). False if none."""
    backend = backend or get_backend()
    card = SavedCard.objects.filter(patient=patient).first()
    if card is None:
        return False
    if backend.online and card.backend == backend.name:
        backend.forget_card(card.method_id)
    card.delete()
    audit(
        actor=actor,
        action="card_removed",
        patient=patient,
        changes={"card": f"{card.brand} {card.last4}"},
        now=now,
    )
    return True


def sell_course(
    *,
    plan: TreatmentPlan,
    method: str,
    actor: Actor,
    now: datetime,
    backend: PaymentBackend | None = None,
) -> Payment:
    """Take a course's price up front (payments.courses.course_price): at the desk (cash,
    terminal, card on file), or online (`Payment.Method.ONLINE`, the patient's own choice
    when booking): a pending payment whose intent the patient confirms on the pay page; it
    replaces the first visit's deposit, and the course is prepaid once the processor says
    it succeeded."""
    if courses.course_payment(plan) is not None:
        raise PaymentRefused(_("This course is already paid."))
    backend = backend or get_backend()
    note = f"{plan.sessions} sessions paid up front"
    if method != Payment.Method.ONLINE:
        # Paid at the desk instead: the patient's online payment still waiting is withdrawn.
        for waiting in plan.payments.filter(
            kind=Payment.Kind.COURSE, state=Payment.State.PENDING
        ).exclude(method=Payment.Method.CARD_ON_FILE):
            if _withdraw(waiting, now=now, backend=backend).state in TAKEN_STATES:
                raise PaymentRefused(_("This course was just paid online."))
        return record_payment(
            plan=plan,
            kind=Payment.Kind.COURSE,
            method=method,
            money=courses.course_price(plan),
            actor=actor,
            now=now,
            backend=backend,
            note=note,
        )
    if not backend.online:
        raise PaymentRefused(_("Online payments are off: the course is paid at the clinic."))
    pending = courses.pending_course_payment(plan)
    if pending is not None:
        return pending if pending.backend_id else _attach_intent(pending, now=now, backend=backend)
    money = courses.course_price(plan)
    with transaction.atomic():
        for deposit in plan.payments.filter(kind=Payment.Kind.DEPOSIT, state=Payment.State.PENDING):
            _withdraw(deposit, now=now, backend=backend)
        payment = Payment.objects.create(
            kind=Payment.Kind.COURSE,
            method=Payment.Method.ONLINE,
            patient=plan.patient,
            location=plan.location,
            plan=plan,
            amount=money.amount,
            currency=money.currency,
            backend=backend.name,
            note=note,
            created_at=now,
        )
    return _attach_intent(payment, now=now, backend=backend)


def _cancel_intent(payment: Payment, *, now: datetime, backend: PaymentBackend) -> Payment:
    """Cancel a pending online payment's intent at the processor and record where it ended.
    Asked first, and asked again when the cancel is refused: Stripe will not cancel an intent
    that succeeded between our look and the cancel, and that payment is then settled as
    taken (`_settle`: kept while its visits hold their time, refunded in full otherwise), never
    recorded as cancelled. Still pending (the processor is busy with it): left pending.
    BackendError when the processor cannot be reached."""
    if not (payment.backend_id and backend.online):
        return _settle(payment.pk, "canceled", now=now, backend=backend)
    payment = settle_from_backend(payment, now=now, backend=backend)
    if payment.state != Payment.State.PENDING:
        return payment
    intent = backend.cancel(payment.backend_id)
    return _settle(payment.pk, intent.status, now=now, backend=backend)


def _withdraw(payment: Payment, *, now: datetime, backend: PaymentBackend) -> Payment:
    """Cancel a pending online payment that is no longer wanted (replaced, or paid another
    way). One the processor took meanwhile comes back settled as taken."""
    try:
        payment = _cancel_intent(payment, now=now, backend=backend)
    except BackendError as error:
        raise PaymentRefused(str(error)) from error
    if payment.state == Payment.State.PENDING:
        raise PaymentRefused(
            _("The online payment is still being processed. Try again in a minute.")
        )
    return payment


def end_course(
    *,
    plan: TreatmentPlan,
    reason: str,
    medical: bool,
    actor: Actor,
    now: datetime,
    backend: PaymentBackend | None = None,
) -> Refund | None:
    """Refund a prepaid course that stops: its unused sessions pro rata, or everything still
    held when it stopped for a medical reason (a later screening says "not now")."""
    payment = courses.course_payment(plan)
    if payment is None:
        return None
    if medical:
        money = payment.refundable
    else:
        left = courses.balance(plan)
        money = left.remaining_value if left else Money.zero(payment.currency)
    if not money:
        return None
    return refund(
        payment=payment, money=money, reason=reason, actor=actor, now=now, backend=backend
    )


def _booked_with(appointment: Appointment) -> list[Appointment]:
    """The visit and the active visits booked in the same go (a course booked at once:
    the same plan, terms frozen at the same instant)."""
    terms = getattr(appointment, "terms", None)
    if appointment.plan_id is None or terms is None:
        return [appointment] if appointment.is_active else []
    return list(
        Appointment.objects.filter(plan_id=appointment.plan_id, terms__created_at=terms.created_at)
        .active()
        .order_by("start")
    )


def _held_by(payment: Payment) -> list[Appointment]:
    """The active visits an online payment holds time for: a course paid up front holds
    every visit of its course; a deposit its visit and those booked with it."""
    if payment.kind == Payment.Kind.COURSE and payment.plan_id:
        return list(Appointment.objects.filter(plan_id=payment.plan_id).active().order_by("start"))
    return _booked_with(payment.appointment) if payment.appointment else []


def _holds_time(payment: Payment) -> bool:
    if payment.kind == Payment.Kind.COURSE and payment.method == Payment.Method.ONLINE:
        return bool(_held_by(payment))
    if payment.kind == Payment.Kind.DEPOSIT and payment.appointment is not None:
        return payment.appointment.is_active
    return True


def _replaced(payment: Payment) -> bool:
    """Another payment stands in for this one: the course paid another way, or the visit's
    deposit (or its whole course) asked for again."""
    others = Payment.objects.exclude(pk=payment.pk).filter(
        state__in=[Payment.State.PENDING, *TAKEN_STATES]
    )
    if payment.kind == Payment.Kind.COURSE:
        return (
            bool(payment.plan_id)
            and others.filter(plan_id=payment.plan_id, kind=Payment.Kind.COURSE).exists()
        )
    if payment.kind == Payment.Kind.DEPOSIT:
        return others.filter(
            Q(appointment_id=payment.appointment_id, kind=Payment.Kind.DEPOSIT)
            | Q(plan_id=payment.plan_id or 0, kind=Payment.Kind.COURSE)
        ).exists()
    return False


def _let_go(visits: list[Appointment], *, reason: str, now: datetime) -> int:
    for visit in visits:
        booking_services.cancel_appointment(appointment=visit, now=now, staff=True, reason=reason)
    return len(visits)


def release_unpaid(*, now: datetime, backend: PaymentBackend | None = None) -> int:
    """Let go of visits whose online deposit (or course paid up front) was not paid within
    PAYMENT_HOLD_MINUTES: the intent is cancelled and the time freed, for every visit the
    payment held (a whole course booked at once). Returns how many visits were let go."""
    backend = backend or get_backend()
    cutoff = now - timedelta(minutes=settings.PAYMENT_HOLD_MINUTES)
    stale = list(
        Payment.objects.filter(
            kind__in=[Payment.Kind.DEPOSIT, Payment.Kind.COURSE],
            method=Payment.Method.ONLINE,
            state=Payment.State.PENDING,
            created_at__lt=cutoff,
        ).select_related("appointment__terms")
    )
    released = 0
    for payment in stale:
        # The processor may take it at any moment, even between our look and the cancel:
        # only a payment the processor agreed to cancel lets its visits go.
        try:
            with transaction.atomic():
                payment = _cancel_intent(payment, now=now, backend=backend)
                if payment.state == Payment.State.CANCELLED:
                    # Under the payment's row lock (taken by `_settle`): a late webhook
                    # waits, then finds the visits let go and refunds.
                    released += _let_go(
                        _held_by(payment), reason="The deposit was not paid in time.", now=now
                    )
        except BackendError:
            continue  # the processor is unreachable: asked again at the next run
    return released + _release_cardless(now=now, backend=backend)


def _release_cardless(*, now: datetime, backend: PaymentBackend) -> int:
    """The card-on-file half of `release_unpaid`: visits whose card was not saved by
    `card_due_by` are let go the same way as an unpaid deposit's, with every visit booked
    with them (a course booked at once)."""
    if not backend.online:
        return 0
    released = 0
    late = BookingTerms.objects.filter(card_due_by__lt=now).select_related("appointment")
    for terms in late:
        appointment = terms.appointment
        terms.card_due_by = None
        terms.save(update_fields=["card_due_by"])
        if appointment is None:
            continue
        if SavedCard.objects.filter(patient_id=appointment.patient_id).exists():
            continue
        released += _let_go(_booked_with(appointment), reason="No card was saved in time.", now=now)
    return released


def ledger_total(payments) -> Decimal:
    """Paid minus refunded over a queryset of payments, in their one currency."""
    total = Decimal(0)
    for amount, refunded in payments.filter(state__in=TAKEN_STATES).values_list(
        "amount", "refunded"
    ):
        total += amount - refunded
    return total
