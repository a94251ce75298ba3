"""Courses sold as prepaid packages: the course price, what is paid and what remains, a
prepaid session used up by a late cancel or no-show, and the refund when a course ends.

A course's per-session value is what was paid divided by its sessions; refunds of unused
sessions are pro rata on that, worked out so the cents add up (paid - used sessions' value).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from booking.models import Appointment, Location, Patient, TreatmentPlan
from booking.services import audit
from booking.services.audit import Actor
from payments.models import TAKEN_STATES, Payment, PrepaidSessionUse
from payments.policy import policy_for
from treatments.models import Treatment
from treatments.money import Money

__all__ = [
    "CourseBalance",
    "balance",
    "balances_of",
    "course_payment",
    "course_price",
    "course_price_for",
    "use_prepaid_session",
]


def course_price(plan: TreatmentPlan) -> Money:
    """The price of the plan's sessions paid up front, less the policy's course discount."""
    return course_price_for(plan.location, plan.treatment, plan.sessions)


def course_price_for(location: Location, treatment: Treatment, sessions: int) -> Money:
    """What `sessions` sessions of `treatment` at `location` cost paid up front (before the
    course is booked: the patient's choice on the review page)."""
    policy = policy_for(location, treatment)
    full = Money(treatment.price * sessions, location.currency)
    return full - full.percent(policy.course_discount_percent)


def course_payment(plan: TreatmentPlan) -> Payment | None:
    return (
        Payment.objects.filter(plan=plan, kind=Payment.Kind.COURSE, state__in=TAKEN_STATES)
        .order_by("created_at")
        .first()
    )


def pending_course_payment(plan: TreatmentPlan) -> Payment | None:
    """The course's price asked for and not yet settled (paid online up front, waiting)."""
    return plan.payments.filter(kind=Payment.Kind.COURSE, state=Payment.State.PENDING).first()


@dataclass(frozen=True)
class CourseBalance:
    sessions: int
    paid: Money  # net of refunds
    used: int  # sessions completed or used up by a late cancel or no-show
    remaining_sessions: int
    remaining_value: Money  # what the unused sessions are worth, pro rata


def balance(plan: TreatmentPlan) -> CourseBalance | None:
    """What is paid and what remains of a course paid up front (None if not prepaid)."""
    payment = course_payment(plan)
    if payment is None:
        return None
    completed = plan.appointments.filter(status=Appointment.Status.COMPLETED).count()
    return _balance(payment, plan.sessions, completed, plan.used_sessions.count())


def balances_of(patient: Patient) -> list[tuple[TreatmentPlan, CourseBalance]]:
    """Each course the patient paid up front with its balance, oldest first. One query,
    whatever the number of courses."""
    payments = (
        Payment.objects.filter(
            patient=patient, kind=Payment.Kind.COURSE, state__in=TAKEN_STATES, plan__isnull=False
        )
        .select_related("plan__treatment", "plan__location")
        .annotate(
            completed=Count(
                "plan__appointments",
                filter=Q(plan__appointments__status=Appointment.Status.COMPLETED),
                distinct=True,
            ),
            prepaid_used=Count("plan__used_sessions", distinct=True),
        )
        .order_by("created_at")
    )
    return [
        (p.plan, _balance(p, p.plan.sessions, p.completed, p.prepaid_used))
        for p in payments
        if p.plan is not None
    ]


def _balance(payment: Payment, sessions: int, completed: int, prepaid_used: int) -> CourseBalance:
    plan_sessions = sessions
    used = min(plan_sessions, completed + prepaid_used)
    paid = Money(payment.amount - payment.refunded, payment.currency)
    value_used = Money(payment.amount * used / plan_sessions, payment.currency)
    remaining = Money(
        max(payment.amount - value_used.amount - payment.refunded, Decimal(0)), payment.currency
    )
    return CourseBalance(
        sessions=plan_sessions,
        paid=paid,
        used=used,
        remaining_sessions=plan_sessions - used,
        remaining_value=remaining,
    )


def use_prepaid_session(
    *, appointment: Appointment, reason: str, actor: Actor, now: datetime
) -> bool:
    """Use up a prepaid session for a missed or late-cancelled visit of a prepaid course,
    when the visit's terms say a prepaid session covers the fee. True if one was used."""
    plan = appointment.plan
    if plan is None or course_payment(plan) is None:
        return False
    terms = getattr(appointment, "terms", None)
    if terms is None or not terms.prepaid_session_covers_fee:
        return False
    try:
        with transaction.atomic():
            PrepaidSessionUse.objects.create(
                plan=plan, appointment=appointment, reason=reason, at=now
            )
    except IntegrityError:
        return True  # already used for this visit
    audit(
        actor=actor,
        action="prepaid_session_used",
        appointment=appointment,
        changes={"reason": reason},
        now=now,
    )
    return True
