"""Safety screening before a treatment (pure: standard library only).

Each rule is a yes/no question; a "yes" leads to an outcome. The result of a screening is the
most severe outcome among the rules that fired. Dates are local calendar dates passed in by
the caller (no time zones); look-backs are in days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Outcome(StrEnum):
    """What a "yes" leads to, ordered by severity, least first."""

    CLEAR = "clear"
    PROVIDER_REVIEW = "provider_review"
    CONSULT_FIRST = "consult_first"
    NOT_NOW = "not_now"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {outcome: rank for rank, outcome in enumerate(Outcome)}


@dataclass(frozen=True)
class Rule:
    """A screening question. ``lookback_days`` makes it "within the last N days"."""

    code: str
    question: str
    outcome: Outcome
    lookback_days: int | None = None
    explanation: str = ""
    condition: str = ""  # what the question is about, named plainly ("Pregnancy or breastfeeding")

    def fires(self, answer: Answer, *, today: date) -> bool:
        """True when ``answer`` triggers this rule.

        "Within the last N days" means ``today - last_occurred <= N`` days, so a dose exactly
        N days ago still fires; a date in the future (still taking it) counts as current, and
        so does a "yes" without a date.
        """
        if not answer.yes:
            return False
        if self.lookback_days is None or answer.last_occurred is None:
            return True
        return (today - answer.last_occurred).days <= self.lookback_days


@dataclass(frozen=True)
class Answer:
    """A patient's answer to the rule with ``code``; ``last_occurred`` for look-back rules."""

    code: str
    yes: bool
    last_occurred: date | None = None


@dataclass(frozen=True)
class ScreeningResult:
    outcome: Outcome
    triggered: tuple[Rule, ...]
    unanswered: tuple[Rule, ...]

    @property
    def bookable(self) -> bool:
        """The patient may book online: nothing blocks and every question is answered."""
        allowed = self.outcome in (Outcome.CLEAR, Outcome.PROVIDER_REVIEW)
        return allowed and not self.unanswered

    @property
    def needs_consultation(self) -> bool:
        return self.outcome == Outcome.CONSULT_FIRST

    @property
    def flags(self) -> tuple[str, ...]:
        """Codes of the provider-review rules that fired, for the aesthetician."""
        return tuple(r.code for r in self.triggered if r.outcome == Outcome.PROVIDER_REVIEW)


def evaluate(
    rules: Sequence[Rule],
    answers: Sequence[Answer],
    *,
    today: date,
    cleared_for_protocol: bool = False,
) -> ScreeningResult:
    """Screen ``answers`` against ``rules`` as of ``today``.

    ``cleared_for_protocol`` means staff cleared the patient after a consultation: consult-first
    rules stay in ``triggered`` but no longer decide the outcome. It never overrides not-now.
    Answers whose code matches no rule are ignored; if a code is answered twice, the last wins.
    """
    by_code = {answer.code: answer for answer in answers}
    triggered = []
    unanswered = []
    for rule in rules:
        answer = by_code.get(rule.code)
        if answer is None:
            unanswered.append(rule)
        elif rule.fires(answer, today=today):
            triggered.append(rule)
    triggered.sort(key=lambda rule: rule.outcome.severity, reverse=True)

    deciding = [
        rule.outcome
        for rule in triggered
        if not (cleared_for_protocol and rule.outcome == Outcome.CONSULT_FIRST)
    ]
    outcome = max(deciding, key=lambda o: o.severity, default=Outcome.CLEAR)
    return ScreeningResult(outcome, tuple(triggered), tuple(unanswered))


def answers_are_current(answered_on: date, *, today: date, max_age_days: int = 0) -> bool:
    """True when answers given on ``answered_on`` are recent enough to book on ``today``.

    Answers are re-confirmed before every session: by default they must be from today.
    """
    age = (today - answered_on).days
    return 0 <= age <= max_age_days


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(
        code="active_infection",
        condition="An active skin infection in the area, such as cold sores",
        question="Do you have an active skin infection (such as cold sores) in the area?",
        outcome=Outcome.NOT_NOW,
        explanation="We need to wait until the infection has fully healed. "
        "We are happy to book a consultation in the meantime.",
    ),
    Rule(
        code="active_acne",
        condition="Active acne breakouts in the area",
        question="Do you have active acne breakouts in the area to be treated?",
        outcome=Outcome.NOT_NOW,
        explanation="Treating over active breakouts can spread inflammation. "
        "We are happy to book a consultation in the meantime.",
    ),
    Rule(
        code="pregnancy",
        condition="Pregnancy or breastfeeding",
        question="Are you pregnant or breastfeeding?",
        outcome=Outcome.NOT_NOW,
        explanation="We do not offer this treatment during pregnancy or breastfeeding. "
        "We are happy to book a consultation to plan for later.",
    ),
    Rule(
        code="fitzpatrick_iv_vi",
        condition="Skin that tans easily and rarely burns (skin types IV to VI)",
        question="Does your skin tan easily and rarely or never burn (skin type IV to VI)?",
        outcome=Outcome.CONSULT_FIRST,
        explanation="Deeper skin tones can react with dark marks, "
        "so we start with a consultation to tailor the treatment to you.",
    ),
    Rule(
        code="keloid_history",
        condition="A history of keloid or raised scars",
        question="Have you ever had keloid or raised scars?",
        outcome=Outcome.CONSULT_FIRST,
        explanation="We start with a consultation to check the treatment is safe for your skin.",
    ),
    Rule(
        code="isotretinoin",
        condition="Isotretinoin (Accutane, Roaccutane) in the last 6 months",
        question="Have you taken isotretinoin (Accutane, Roaccutane) in the last 6 months?",
        outcome=Outcome.PROVIDER_REVIEW,
        lookback_days=183,
        explanation="Your aesthetician will review this with you before the treatment.",
    ),
)
