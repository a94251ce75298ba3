"""`{% load payments %}`: the money parts other apps' pages show.

`{% visit_money appointment %}` on the desk's visit page; `{% payment_terms location
treatment %}` (used by payments/_terms.html) on the patient's review page.
"""

import json

from django import template
from django.middleware.csrf import get_token
from django.utils import translation

from payments import courses, declines
from payments.backends import get_backend
from payments.forms import FeeForm, RefundForm, TakePaymentForm
from payments.models import BookingTerms, Payment, SavedCard
from payments.policy import terms_for
from treatments.money import Money

register = template.Library()


@register.simple_tag
def card_declines_json() -> str:
    """Our sentences for Stripe's card error codes, as JSON for static/js/pay.js (escaped
    for an attribute by the template engine)."""
    return json.dumps(declines.sentences(), ensure_ascii=False)


@register.inclusion_tag("payments/_visit_money.html", takes_context=True)
def visit_money(context, appointment):
    request = context["request"]
    try:
        terms = appointment.terms
    except BookingTerms.DoesNotExist:
        terms = None
    payments = list(appointment.payments.prefetch_related("refunds").order_by("created_at"))
    fee = None
    if terms is not None:
        if appointment.status == appointment.Status.NO_SHOW and terms.no_show_fee:
            fee = ("no-show fee", terms.money("no_show_fee"))
        elif appointment.late_cancellation and terms.late_cancel_fee:
            fee = ("late-cancel fee", terms.money("late_cancel_fee"))
    charged = any(p.fee and p.state != Payment.State.FAILED for p in payments)
    price = terms.money("price") if terms else None
    return {
        "appointment": appointment,
        "terms": terms,
        "payments": payments,
        "fee": None if charged else fee,
        "card": SavedCard.objects.filter(patient_id=appointment.patient_id).first(),
        "take_form": TakePaymentForm(initial={"amount": price.amount if price else None}),
        "refund_form": RefundForm(),
        "fee_form": FeeForm(),
        "csrf_token": get_token(request),
        "request": request,
    }


@register.simple_tag
def payment_terms(location, treatment) -> dict:
    terms = terms_for(location, treatment)
    online = get_backend().online
    return {
        "sentence": terms.sentence(translation.get_language() or "en", online=online),
        "online": online,
        "deposit": terms.deposit,
    }


@register.inclusion_tag("payments/_course_choice.html")
def course_choice(location, treatment, sessions, chosen=""):
    """On the review page of a whole course: pay it all now at the course price, or session
    by session (each visit's deposit, if any). Offline: the course is paid at the clinic."""
    terms = terms_for(location, treatment)
    price = courses.course_price_for(location, treatment, sessions)
    full = Money(treatment.price * sessions, location.currency)
    return {
        "online": get_backend().online,
        "price": price,
        "saving": full - price,
        "deposit": terms.deposit,
        "sessions": sessions,
        "chosen": chosen or "course",
    }


@register.inclusion_tag("payments/_plan_paid.html")
def plan_paid(plan):
    """On the patient's course card: what is paid up front and what remains, or the course
    payment still waiting (with its pay link). Nothing for a course paid session by session."""
    return {
        "left": courses.balance(plan),
        "pending": courses.pending_course_payment(plan),
    }


@register.inclusion_tag("payments/_course_money.html", takes_context=True)
def course_money(context, plan):
    """A course's package: its up-front price, or what is paid and what remains."""
    return {
        "plan": plan,
        "price": courses.course_price(plan),
        "left": courses.balance(plan),
        "pending": courses.pending_course_payment(plan),
        "csrf_token": get_token(context["request"]),
    }
