"""The safety screening as every door applies it.

A patient's own booking needs today's answers to clear them (answers are asked again before
every visit); "not now" and "consultation first" refuse it. Staff see the patient's latest
answers as flags and may book past a refusal only with a reason, which is recorded. Answers
arrive with a booking (web flow, API) or from a completed screening form; they are validated
against the treatment's questions and stored only with a booking that succeeds or a screening
the patient completed.
"""

from collections.abc import Iterable
from datetime import date, datetime

from django.utils.translation import gettext as _

from booking import queries
from booking.models import Location, Patient, ScreeningAnswer
from booking.services.errors import InvalidAnswers, ScreeningRequired
from treatments import screening
from treatments.models import ScreeningRule, Treatment

__all__ = [
    "check_screening",
    "check_staff_screening",
    "evaluate_answers",
    "needs_override",
    "record_answers",
    "screening_for",
    "validate_answers",
]


def validate_answers(
    treatment: Treatment, answers: Iterable[screening.Answer]
) -> list[tuple[ScreeningRule, screening.Answer]]:
    """The answers as (rule, Answer) pairs, or InvalidAnswers: each must answer one of the
    treatment's questions, at most once, with no date in the future. At most one answer per
    question also bounds the size of what is stored."""
    rules = {rule.code: rule for rule in treatment.screening_rules.all()}
    answers = list(answers)
    if len(answers) > len(rules):
        raise InvalidAnswers(
            f"{treatment} has {len(rules)} health question{'s' * (len(rules) != 1)}; "
            f"{len(answers)} answers were sent. Answer each question once."
        )
    seen: set[str] = set()
    pairs = []
    for answer in answers:
        rule = rules.get(answer.code)
        if rule is None:
            raise InvalidAnswers(
                f'"{answer.code[:60]}" is not one of the health questions for {treatment}.'
            )
        if answer.code in seen:
            raise InvalidAnswers(f'The question "{answer.code}" is answered more than once.')
        seen.add(answer.code)
        pairs.append((rule, answer))
    return pairs


def record_answers(
    *, patient: Patient, treatment: Treatment, answers: Iterable[screening.Answer], now: datetime
) -> list[ScreeningAnswer]:
    """Store a completed screening (validated first), dated `now`."""
    pairs = validate_answers(treatment, answers)
    return ScreeningAnswer.objects.bulk_create(
        ScreeningAnswer(
            patient=patient,
            rule=rule,
            yes=answer.yes,
            last_occurred=answer.last_occurred,
            answered_at=now,
        )
        for rule, answer in pairs
    )


def evaluate_answers(
    patient: Patient | None,
    treatment: Treatment,
    answers: Iterable[screening.Answer],
    today: date,
) -> screening.ScreeningResult:
    """Answers judged against the treatment's questions on `today` (no patient yet: not
    cleared by a consultation)."""
    return screening.evaluate(
        [rule.as_rule() for rule in treatment.screening_rules.all()],
        list(answers),
        today=today,
        cleared_for_protocol=bool(patient and patient.cleared_for_protocols),
    )


def _as_answers(latest: dict[str, ScreeningAnswer]) -> list[screening.Answer]:
    return [screening.Answer(code, a.yes, a.last_occurred) for code, a in latest.items()]


def screening_for(
    patient: Patient,
    treatment: Treatment,
    today: date,
    *,
    latest: dict[str, ScreeningAnswer] | None = None,
) -> screening.ScreeningResult:
    """The patient's latest answers (whenever given) screened for the treatment on `today`:
    what the front desk and the aesthetician see as flags. Pass `latest` (from
    queries.latest_screening_answers_by_patient) when screening many visits at once."""
    if latest is None:
        latest = queries.latest_screening_answers(patient)
    return evaluate_answers(patient, treatment, _as_answers(latest), today)


def check_screening(
    *,
    patient: Patient,
    treatment: Treatment,
    location: Location,
    now: datetime,
    answers: Iterable[screening.Answer] | None = None,
) -> screening.ScreeningResult:
    """Refuse a patient's own booking unless today's answers clear them for the treatment.
    `answers` are the ones sent with the booking (validated here); without them, the answers
    stored today count. "Not now" offers a consultation instead, and "consultation first"
    waits until staff clear the patient. Provider-review flags pass."""
    today = location.local(now).date()
    if answers is not None:
        given = [answer for _, answer in validate_answers(treatment, answers)]
    else:
        start_of_today = datetime.combine(today, datetime.min.time(), tzinfo=location.zone)
        given = _as_answers(queries.latest_screening_answers(patient, since=start_of_today))
    result = evaluate_answers(patient, treatment, given, today)
    if result.unanswered:
        raise ScreeningRequired(
            _(
                "Please answer today's health questions for %(treatment)s before booking: they "
                "are asked again before every visit."
            )
            % {"treatment": treatment}
        )
    if result.outcome == screening.Outcome.NOT_NOW:
        raise ScreeningRequired(
            _(
                "%(treatment)s is not safe for you right now. Please book a consultation "
                "instead, and we will plan it with you."
            )
            % {"treatment": treatment}
        )
    if result.needs_consultation:
        raise ScreeningRequired(
            _(
                "Please book a consultation first; after it the clinic can clear you for "
                "%(treatment)s."
            )
            % {"treatment": treatment}
        )
    return result


def needs_override(result: screening.ScreeningResult) -> bool:
    """Staff may book past this result only with a recorded reason."""
    return result.outcome in (screening.Outcome.NOT_NOW, screening.Outcome.CONSULT_FIRST)


def check_staff_screening(
    *, patient: Patient, treatment: Treatment, location: Location, now: datetime, reason: str
) -> screening.ScreeningResult:
    """A staff booking: the latest answers as flags; a refusal stands unless staff give a
    reason (the caller records it with the booking)."""
    result = screening_for(patient, treatment, location.local(now).date())
    if needs_override(result) and not reason.strip():
        raise ScreeningRequired(
            "The screening says this patient should not book this treatment now. "
            "Give a reason to book anyway."
        )
    return result
