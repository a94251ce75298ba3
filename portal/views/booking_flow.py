"""The booking flow under /book/: treatment (location), time, the safety screening, then one
review page with the contact details inline that books one visit or a whole course.

The choices live in a server-side draft (portal/views/draft.py) whose token the session and
the emailed links carry; picking a time holds it. A new patient types name, email, phone,
date of birth and consents on the review page, with no password: confirming makes an account
waiting for its email link (booking.services.start_sign_up) and the booking at once; the
email then confirms the address and offers a password. An email that already has an account
is never booked into silently: a one-time code goes to that mailbox, and only typing it signs
the patient in (see the account step). Every write goes through booking.services with
now=timezone.now().
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.forms import SignUpForm
from accounts.ratelimit import over_limit, too_many_requests
from accounts.roles import GUEST_PATIENT, guest_patient, own_or_404, patient_of
from accounts.views import (
    CODE_EMAIL,
    code_steps,
    send_booking_welcome,
    send_login_code,
)
from booking import availability, formats, queries, schedule, services
from booking.models import Appointment, Location, Patient, Provider
from consent import services as consent_services
from payments import flow as payments_flow
from portal.forms import ChooseTimeForm, ConfirmForm, ScreeningForm
from portal.views.draft import (
    DRAFT,
    Draft,
    attach_patient,
    draft_patient_here,
    forget_draft,
    load_draft,
    resume,
    save_draft,
    start_over,
    update_draft,
)
from portal.views.my import patient_visits
from portal.views.times import ANY, build_week, free_slots, render_week
from treatments import protocols, screening
from treatments.models import Treatment

NEARBY_TIMES = 6


# --- Screening ------------------------------------------------------------------------------


def _rules(treatment: Treatment):
    return list(treatment.screening_rules.all())


def _last_answers(patient: Patient | None) -> dict[str, screening.Answer]:
    """The latest stored answer per question, to pre-fill the screening."""
    if patient is None:
        return {}
    return {
        code: screening.Answer(code, answer.yes, answer.last_occurred)
        for code, answer in queries.latest_screening_answers(patient).items()
    }


def _screen(draft: Draft, patient: Patient | None, today: date) -> screening.ScreeningResult:
    """The draft's answers judged by the service's rules, to show the patient where they stand
    (the booking itself is screened again by the service)."""
    return services.evaluate_answers(patient, draft.treatment, draft.answers or [], today)


def _route_after_screening(result: screening.ScreeningResult):
    if result.unanswered:
        return redirect("book_screening")
    if result.outcome == screening.Outcome.NOT_NOW:
        return redirect("book_not_now")
    if result.needs_consultation:
        return redirect("book_consult_first")
    return None


def _consultation() -> Treatment | None:
    return Treatment.objects.active().filter(is_consultation=True).first()


# --- The booking flow -----------------------------------------------------------------------


def book_start(request):
    """The treatments. Coming back here gives back a time held by an unfinished draft."""
    token = request.session.get(DRAFT)
    if isinstance(token, str):
        services.release_holds(token)
    treatments = Treatment.objects.active().select_related("protocol")
    return render(request, "portal/book_start.html", {"treatments": treatments})


def _offering(treatment: Treatment):
    return Location.objects.filter(
        providers__treatments=treatment,
        providers__is_active=True,
        rooms__treatments=treatment,
        rooms__is_active=True,
    ).distinct()


def book_location(request, slug):
    treatment = get_object_or_404(Treatment.objects.active(), slug=slug)
    places = list(_offering(treatment))
    if len(places) == 1:
        # Straight to the times: they list every aesthetician, "first available" first.
        times = reverse("book_times", args=[treatment.slug, places[0].slug])
        return redirect(f"{times}?with={ANY}")
    return render(
        request, "portal/book_location.html", {"treatment": treatment, "locations": places}
    )


def _treatment_and_location(slug, location_slug):
    treatment = get_object_or_404(Treatment.objects.active().select_related("protocol"), slug=slug)
    location = get_object_or_404(_offering(treatment), slug=location_slug)
    return treatment, location


def book_provider(request, slug, location_slug):
    treatment, location = _treatment_and_location(slug, location_slug)
    providers = Provider.objects.performing(treatment, location)
    return render(
        request,
        "portal/book_provider.html",
        {"treatment": treatment, "location": location, "providers": providers, "ANY": ANY},
    )


def _chosen_provider(raw: str | None, treatment, location) -> Provider | None:
    if not raw or raw == ANY:
        return None
    try:
        return Provider.objects.performing(treatment, location).get(pk=int(raw))
    except (ValueError, Provider.DoesNotExist):
        raise Http404("No such aesthetician here.") from None


def book_times(request, slug, location_slug):
    treatment, location = _treatment_and_location(slug, location_slug)
    provider = _chosen_provider(request.GET.get("with"), treatment, location)
    if request.method == "POST":
        form = ChooseTimeForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Please pick one of the times shown."))
            return redirect(request.get_full_path())
        try:
            save_draft(
                request,
                treatment=treatment,
                location=location,
                provider=provider,
                start=form.cleaned_data["start"],
            )
        except services.BookingError as error:
            messages.error(request, error.message)
            return redirect(request.get_full_path())
        return redirect("book_screening")
    now = timezone.now()
    week = build_week(
        request,
        treatment=treatment,
        location=location,
        provider_id=provider.pk if provider else None,
        now=now,
    )
    context = {
        "treatment": treatment,
        "location": location,
        "provider": provider,
        "providers": Provider.objects.performing(treatment, location),
        "week": week,
        "choose_url": request.get_full_path(),
        "ANY": ANY,
    }
    return render_week(request, "portal/book_times.html", context, location=location)


@never_cache  # health data: no browser or proxy may keep a copy
def book_screening(request):
    draft = load_draft(request)
    if draft is None:
        return start_over(request)
    rules = _rules(draft.treatment)
    patient = patient_of(request.user)
    if not rules:
        today = draft.location.local(timezone.now()).date()
        update_draft(request, answers=[], answered_on=today.isoformat())
        return redirect("book_review")
    previous = {a.code: a for a in draft.answers} if draft.answers else _last_answers(patient)
    form = ScreeningForm(request.POST or None, rules=rules, previous=previous)
    if request.method == "POST" and form.is_valid():
        now = timezone.now()
        answers = form.answers()
        update_draft(
            request,
            answers=[
                {
                    "code": a.code,
                    "yes": a.yes,
                    "last_occurred": a.last_occurred.isoformat() if a.last_occurred else None,
                }
                for a in answers
            ],
            answered_on=draft.location.local(now).date().isoformat(),
            answers_saved=patient is not None,
        )
        draft = load_draft(request)
        if patient is not None:
            services.record_answers(
                patient=patient, treatment=draft.treatment, answers=draft.answers or [], now=now
            )
        result = _screen(draft, patient, draft.location.local(now).date())
        return _route_after_screening(result) or redirect("book_review")
    return render(
        request,
        "portal/book_screening.html",
        {"draft": draft, "form": form, "reconfirm": bool(draft.plan or previous)},
    )


def _why_a_consultation(request, outcome: screening.Outcome, template: str):
    """Explain kindly which answers led here, and offer a consultation."""
    draft = load_draft(request)
    if draft is None or draft.answers is None:
        return start_over(request)
    result = _screen(draft, patient_of(request.user), draft.location.local(timezone.now()).date())
    reasons = [rule for rule in result.triggered if rule.outcome == outcome]
    return render(
        request, template, {"draft": draft, "reasons": reasons, "consultation": _consultation()}
    )


def book_not_now(request):
    return _why_a_consultation(request, screening.Outcome.NOT_NOW, "portal/book_not_now.html")


def book_consult_first(request):
    return _why_a_consultation(
        request, screening.Outcome.CONSULT_FIRST, "portal/book_consult_first.html"
    )


@require_POST
def book_consultation(request):
    """Swap the treatment for a consultation at the same place; the patient picks a time."""
    draft = load_draft(request)
    consultation = _consultation()
    if consultation is None:
        messages.info(request, _("Please call us to book a consultation."))
        return redirect("locations")
    location_slug = draft.location.slug if draft else None
    if location_slug is None or not _offering(consultation).filter(slug=location_slug).exists():
        return redirect("book_location", slug=consultation.slug)
    return redirect("book_provider", slug=consultation.slug, location_slug=location_slug)


def book_account(request):
    """A returning patient signs in with a one-time code emailed to them (no password), then
    goes back to the review. A new patient never needs this page: the review takes their
    details inline. The answer is the same whether or not the address has an account."""
    draft = load_draft(request)
    if draft is None:
        return start_over(request)
    if patient_of(request.user):
        return redirect("book_review")
    email = request.session.get(CODE_EMAIL)
    ask, code_form, response = code_steps(
        request,
        again="book_account",
        done=lambda: "book_review",
        draft_token=draft.token,
        email=bool(email),
    )
    if response is not None:
        return response
    return render(
        request,
        "portal/book_account.html",
        {
            "draft": draft,
            "ask_form": ask,
            "code_form": code_form,
            "code_email": email,
            "staff_signed_in": request.user.is_authenticated,
        },
        status=400 if (ask.is_bound and not ask.is_valid()) or code_form.errors else 200,
    )


def _send_code(request, email: str, *, by_sms: bool = False) -> None:
    send_login_code(request, email, by_sms=by_sms, draft_token=_token(request))


def _token(request) -> str | None:
    draft = load_draft(request)
    return draft.token if draft else None


def book_continue(request, token):
    """The "continue on another device" and emailed links: open the draft in this browser."""
    if not resume(request, token):
        return start_over(request, _("That booking link has expired. Let's start again."))
    draft = load_draft(request)
    if draft is None:
        return start_over(request)
    return redirect("book_review" if draft.answers is not None else "book_screening")


def _nearby_times(draft: Draft, *, now: datetime, window=None) -> list[availability.FreeTime]:
    """Free times closest to the one the patient chose, for when it was just taken."""
    day = draft.local_start.date()
    first_day, last_day = day - timedelta(days=1), day + timedelta(days=6)
    if window:
        first_day, last_day = max(first_day, window[0]), min(last_day, window[1])
    slots = free_slots(
        treatment=draft.treatment,
        location=draft.location,
        provider_id=draft.provider.pk if draft.provider and not draft.chose_anyone else None,
        first_day=first_day,
        last_day=last_day,
        now=now,
    )
    closest = sorted(slots, key=lambda s: abs(s.start - draft.start))[:NEARBY_TIMES]
    return sorted(closest, key=lambda s: s.start)


def _plan_session(draft: Draft) -> protocols.PlannedSession | None:
    return schedule.next_session(draft.plan) if draft.plan else None


def _book(draft: Draft, *, patient: Patient, choice: str, sessions: int, user, now: datetime):
    """Make the booking the patient confirmed; return the first visit."""
    # Answers given before signing in are stored with the booking; the others already were.
    answers = None if draft.answers_saved else draft.answers
    common = {
        "treatment": draft.treatment,
        "location": draft.location,
        "provider": draft.provider,
        "now": now,
        "booked_by": user,
        "screening_answers": answers,
    }
    if draft.plan:
        return services.book_plan_session(
            plan=draft.plan,
            start=draft.start,
            now=now,
            provider=draft.provider,
            booked_by=user,
            screening_answers=answers,
        )
    if draft.protocol and choice == ConfirmForm.BOOK_ALL:
        plan = services.book_plan(
            patient=patient, sessions=sessions, first_start=draft.start, **common
        )
        return plan.appointments.order_by("start").first()
    if draft.protocol:
        return services.start_plan(
            patient=patient, sessions=sessions, first_start=draft.start, **common
        )
    kind = (
        Appointment.Kind.CONSULTATION
        if draft.treatment.is_consultation
        else Appointment.Kind.SINGLE
    )
    return services.book_appointment(patient=patient, start=draft.start, kind=kind, **common)


def _guest_patient(request, draft: Draft) -> Patient | None:
    """The new patient this draft already made an account for (a first confirm that was then
    refused, e.g. the time was taken): confirming again books for them, no second account."""
    patient = draft_patient_here(request, draft)
    if patient is None or patient.user is None or patient.user.is_active:
        return None
    return patient


def _patient_from_details(request, draft: Draft, form: SignUpForm, *, now: datetime):
    """The patient a new visitor's details stand for: a new account waiting for its email
    link, or None when the email already has an account (then a code goes to that mailbox
    and nothing is booked until it is typed)."""
    details = form.cleaned_data
    guest = _guest_patient(request, draft)
    if guest is not None and guest.user.email == details["email"]:
        services.record_sign_up(guest.user, now=now, **details)
        return guest
    if services.account_for_email(details["email"]) is not None:
        _send_code(request, details["email"])
        return None
    signed_up = services.start_sign_up(now=now, **details)
    if signed_up.outcome is not services.SignUpOutcome.NEW:  # lost a race for the address
        _send_code(request, details["email"])
        return None
    patient = signed_up.user.patient
    attach_patient(request, patient)
    return patient


def confirm_booking(request, draft: Draft, *, patient: Patient, choice: str, sessions: int):
    """Make the booking the patient confirmed, and return its first visit: the draft's hold
    turns into the visits in one transaction (a refusal keeps the hold). Raises BookingError.

    The one place a booking is made from the flow; a later step (a deposit) hooks in after it
    through `after_booking`."""
    now = timezone.now()
    user = request.user if request.user.is_authenticated else None
    with services.booking_from_draft(draft.token):
        return _book(draft, patient=patient, choice=choice, sessions=sessions, user=user, now=now)


def after_booking(request, booked: Appointment, *, new_patient: bool, pay_course: bool = False):
    """Where the patient goes once the booking is made: the pay page when the terms ask for a
    deposit online, or the patient chose to pay the whole course now (payments.flow), else
    "You're booked". The draft is spent; a new patient gets the email that confirms their
    address."""
    forget_draft(request)
    if new_patient:
        request.session[GUEST_PATIENT] = booked.patient_id
        send_booking_welcome(request, booked.patient.user)
    return payments_flow.after_booking(request, [booked], pay_course=pay_course) or redirect(
        "book_done", pk=booked.pk
    )


def _reheld(request, draft: Draft, *, now: datetime) -> bool:
    """Keep the draft's time held: renew an expired hold if nobody took the time since."""
    if services.live_hold(draft.token, now=now) is not None:
        return True
    try:
        services.hold_time(
            draft=draft.token,
            treatment=draft.treatment,
            location=draft.location,
            provider=draft.provider,
            start=draft.start,
            now=now,
        )
    except services.BookingError:
        return False
    return True


@never_cache  # health data: no browser or proxy may keep a copy
def book_review(request):
    draft = load_draft(request)
    if draft is None:
        return start_over(request)
    patient = patient_of(request.user)
    guest = None if patient else _guest_patient(request, draft)
    now = timezone.now()
    today = draft.location.local(now).date()
    if draft.answers is None or not screening.answers_are_current(draft.answered_on, today=today):
        messages.info(request, _("Please confirm your health answers for today."))
        return redirect("book_screening")
    result = _screen(draft, patient, today)
    detour = _route_after_screening(result)
    if detour:
        return detour

    session = _plan_session(draft)
    window = (session.earliest, session.latest) if session and session.number > 1 else None
    protocol = draft.protocol
    form = ConfirmForm(request.POST or request.GET or None)
    sessions = draft.sessions or (protocol.default_sessions if protocol else 1)
    if form.is_valid() and form.cleaned_data.get("sessions") and protocol:
        sessions = min(
            max(form.cleaned_data["sessions"], protocol.min_sessions), protocol.max_sessions
        )
        update_draft(request, sessions=sessions)

    details = None
    if patient is None and not request.user.is_authenticated:
        details = SignUpForm(request.POST if "email" in request.POST else None)
        if guest is not None and not details.is_bound:
            details = SignUpForm(initial=_details_of(guest))
    problem = None
    taken = False
    if request.method == "POST" and "start" in request.POST:
        picked = ChooseTimeForm(request.POST)
        if picked.is_valid():
            try:
                save_draft(
                    request,
                    treatment=draft.treatment,
                    location=draft.location,
                    provider=None if draft.chose_anyone else draft.provider,
                    start=picked.cleaned_data["start"],
                    plan=draft.plan,
                )
            except services.BookingError as error:
                messages.error(request, error.message)
            return redirect(reverse("book_review") + f"?sessions={sessions}")
    elif request.method == "POST" and form.is_valid():
        if over_limit(request, "booking"):
            return too_many_requests(request, "booking")
        choice = form.cleaned_data.get("choice") or ConfirmForm.BOOK_ONE
        new_patient = False
        if details is not None:
            if not details.is_valid():
                problem = _("Please check your details below.")
            elif over_limit(request, "sign-up"):
                return too_many_requests(request, "sign-up")
            else:
                patient = _patient_from_details(request, draft, details, now=now)
                if patient is None:
                    messages.info(
                        request,
                        _(
                            "That email has an account with us, so we sent a sign-in code to it. "
                            "Type the code to book with your account."
                        ),
                    )
                    return redirect("book_account")
                new_patient = True
        elif patient is None:
            problem = _("Please sign out of the staff account to book as a patient.")
        if patient is not None:
            try:
                booked = confirm_booking(
                    request, draft, patient=patient, choice=choice, sessions=sessions
                )
            except services.SlotTaken:
                taken = True
            except services.BookingError as error:
                problem = error.message
            else:
                pay_course = (
                    choice == ConfirmForm.BOOK_ALL
                    and form.cleaned_data.get("pay") == ConfirmForm.PAY_COURSE
                )
                return after_booking(
                    request, booked, new_patient=new_patient, pay_course=pay_course
                )
    held = not taken and _reheld(request, draft, now=now)
    taken = taken or not held

    proposals = None
    if protocol and not taken:
        try:
            proposals = services.propose_plan(
                treatment=draft.treatment,
                location=draft.location,
                sessions=sessions,
                first_start=draft.start,
                now=now,
                provider=draft.provider,
                exclude_draft=draft.token,
            )
        except services.SlotTaken:
            taken = True
        except services.BookingError as error:
            problem = problem or error.message
    elif not taken and request.method == "GET":
        problem = _why_not_bookable(draft, now=now, window=window)
        taken = problem == "taken"
        problem = None if taken else problem
    hold = services.live_hold(draft.token, now=now)
    price = draft.treatment.price
    count = sessions if protocol else 1
    context = {
        "draft": draft,
        "patient": patient or guest,
        "details_form": details,
        "result": result,
        "protocol": protocol,
        "sessions": sessions,
        "session_choices": range(protocol.min_sessions, protocol.max_sessions + 1)
        if protocol
        else (),
        "proposals": proposals,
        "initial_proposals": [p for p in proposals or () if p.session.kind == protocols.INITIAL],
        "unplaced": [
            p for p in proposals or () if p.slot is None and p.session.kind == protocols.INITIAL
        ],
        "plan_session": session,
        "problem": problem,
        "taken": taken,
        "hold": hold,
        "held_minutes": services.HOLD_MINUTES,
        "total": (price * count).quantize(Decimal("0.01")) if price else None,
        "pay_choice": form.cleaned_data.get("pay") if form.is_bound and form.is_valid() else "",
        "continue_url": request.build_absolute_uri(reverse("book_continue", args=[draft.token])),
        "nearby": _nearby_times(draft, now=now, window=window) if taken or problem else [],
    }
    return render(request, "portal/book_review.html", context, status=409 if taken else 200)


def _details_of(patient: Patient) -> dict:
    return {field: getattr(patient, field) for field in services.SIGN_UP_FIELDS}


def _why_not_bookable(draft: Draft, *, now: datetime, window) -> str | None:
    """Check the chosen time is still free: "taken" only when someone else holds a time that
    was on offer; otherwise why it cannot be booked (past, outside hours...), or None."""
    if window and not window[0] <= draft.local_start.date() <= window[1]:
        return _("Please pick a time between %(earliest)s and %(latest)s.") % {
            "earliest": formats.month_day(window[0]),
            "latest": formats.month_day(window[1]),
        }
    refusal = services.why_not_bookable(
        treatment=draft.treatment,
        location=draft.location,
        provider_id=draft.provider.pk if draft.provider else None,
        start=draft.start,
        now=now,
        exclude_draft=draft.token,
    )
    if refusal is None:
        return None
    return "taken" if isinstance(refusal, services.SlotTaken) else refusal.message


@never_cache  # health data: no browser or proxy may keep a copy
def book_done(request, pk):
    """ "Booked": for the signed-in patient, or the new patient this browser just booked for
    (their account waits for the emailed link)."""
    patient = patient_of(request.user)
    if patient is None:
        patient = guest_patient(request)
    if patient is None:
        return redirect_to_login(request.get_full_path())
    appointment = own_or_404(patient_visits(patient), pk=pk)
    visits = (
        patient_visits(patient).filter(plan=appointment.plan).active()
        if appointment.plan_id
        else [appointment]
    )
    return render(
        request,
        "portal/book_done.html",
        {
            "appointment": appointment,
            "visits": visits,
            "plan": appointment.plan,
            "unverified": patient.user is not None and not patient.user.is_active,
            "consent": consent_services.status_for(appointment),
        },
    )
