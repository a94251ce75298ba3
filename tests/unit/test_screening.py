from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treatments.screening import (
    DEFAULT_RULES,
    Answer,
    Outcome,
    Rule,
    ScreeningResult,
    answers_are_current,
    evaluate,
)

TODAY = date(2026, 3, 2)
CODES = [rule.code for rule in DEFAULT_RULES]


def screen(*yes, today=TODAY, cleared_for_protocol=False, **dated):
    """Answer every default rule: "yes" to the codes given, with dates for look-back ones."""
    answers = [
        Answer(code, yes=code in yes or code in dated, last_occurred=dated.get(code))
        for code in CODES
    ]
    return evaluate(DEFAULT_RULES, answers, today=today, cleared_for_protocol=cleared_for_protocol)


def codes(rules):
    return [rule.code for rule in rules]


def test_default_rules_follow_the_design():
    outcomes = {rule.code: rule.outcome for rule in DEFAULT_RULES}

    assert outcomes == {
        "active_infection": Outcome.NOT_NOW,
        "active_acne": Outcome.NOT_NOW,
        "pregnancy": Outcome.NOT_NOW,
        "fitzpatrick_iv_vi": Outcome.CONSULT_FIRST,
        "keloid_history": Outcome.CONSULT_FIRST,
        "isotretinoin": Outcome.PROVIDER_REVIEW,
    }
    assert [r.lookback_days for r in DEFAULT_RULES if r.code == "isotretinoin"] == [183]
    assert all(rule.question.endswith("?") and rule.explanation for rule in DEFAULT_RULES)
    assert len(set(CODES)) == len(CODES)


def test_outcomes_are_ordered_by_severity():
    ordered = [Outcome.CLEAR, Outcome.PROVIDER_REVIEW, Outcome.CONSULT_FIRST, Outcome.NOT_NOW]

    assert list(Outcome) == ordered
    assert [o.severity for o in ordered] == [0, 1, 2, 3]
    assert Outcome.NOT_NOW == "not_now"


def test_it_clears_when_every_answer_is_no():
    result = screen()

    assert result.outcome == Outcome.CLEAR
    assert result.triggered == ()
    assert result.unanswered == ()
    assert result.bookable
    assert not result.needs_consultation
    assert result.flags == ()


@pytest.mark.parametrize("code", ["active_infection", "active_acne", "pregnancy"])
def test_not_now_blocks_booking(code):
    result = screen(code)

    assert result.outcome == Outcome.NOT_NOW
    assert codes(result.triggered) == [code]
    assert not result.bookable
    assert not result.needs_consultation


@pytest.mark.parametrize("code", ["fitzpatrick_iv_vi", "keloid_history"])
def test_consult_first_asks_for_a_consultation(code):
    result = screen(code)

    assert result.outcome == Outcome.CONSULT_FIRST
    assert result.needs_consultation
    assert not result.bookable
    assert result.flags == ()


def test_recent_isotretinoin_is_bookable_with_a_flag():
    result = screen(isotretinoin=TODAY - timedelta(days=1))

    assert result.outcome == Outcome.PROVIDER_REVIEW
    assert result.bookable
    assert result.flags == ("isotretinoin",)


def test_isotretinoin_seven_months_ago_does_not_fire():
    result = screen(isotretinoin=date(2025, 8, 2))

    assert result.outcome == Outcome.CLEAR
    assert result.triggered == ()
    assert result.flags == ()


@pytest.mark.parametrize(
    ("days_ago", "fires"),
    [(0, True), (182, True), (183, True), (184, False), (-30, True)],
)
def test_look_back_includes_exactly_n_days_ago(days_ago, fires):
    # "within the last N days" means today - last_occurred <= N; a future date is current
    result = screen(isotretinoin=TODAY - timedelta(days=days_ago))

    assert (result.flags == ("isotretinoin",)) is fires


def test_a_look_back_yes_without_a_date_fires():
    result = screen("isotretinoin")

    assert result.flags == ("isotretinoin",)


def test_a_look_back_no_with_a_date_does_not_fire():
    rule = Rule("isotretinoin", "Isotretinoin?", Outcome.PROVIDER_REVIEW, lookback_days=183)

    result = evaluate([rule], [Answer("isotretinoin", False, TODAY)], today=TODAY)

    assert result.outcome == Outcome.CLEAR


def test_the_most_severe_outcome_wins_and_triggered_is_sorted():
    result = screen("keloid_history", "pregnancy", isotretinoin=TODAY)

    assert result.outcome == Outcome.NOT_NOW
    assert codes(result.triggered) == ["pregnancy", "keloid_history", "isotretinoin"]
    assert result.flags == ("isotretinoin",)
    assert not result.bookable


def test_consult_first_outranks_provider_review():
    result = screen("fitzpatrick_iv_vi", isotretinoin=TODAY)

    assert result.outcome == Outcome.CONSULT_FIRST
    assert codes(result.triggered) == ["fitzpatrick_iv_vi", "isotretinoin"]


def test_clearance_after_a_consultation_lifts_consult_first():
    result = screen("fitzpatrick_iv_vi", "keloid_history", cleared_for_protocol=True)

    assert result.outcome == Outcome.CLEAR
    assert codes(result.triggered) == ["fitzpatrick_iv_vi", "keloid_history"]
    assert result.bookable
    assert not result.needs_consultation


def test_clearance_falls_back_to_provider_review():
    result = screen("fitzpatrick_iv_vi", isotretinoin=TODAY, cleared_for_protocol=True)

    assert result.outcome == Outcome.PROVIDER_REVIEW
    assert result.bookable
    assert result.flags == ("isotretinoin",)


def test_clearance_never_overrides_not_now():
    result = screen("fitzpatrick_iv_vi", "active_acne", cleared_for_protocol=True)

    assert result.outcome == Outcome.NOT_NOW
    assert not result.bookable


def test_an_unanswered_question_is_not_bookable():
    answers = [Answer(code, yes=False) for code in CODES if code != "pregnancy"]

    result = evaluate(DEFAULT_RULES, answers, today=TODAY)

    assert result.outcome == Outcome.CLEAR
    assert codes(result.unanswered) == ["pregnancy"]
    assert not result.bookable


def test_no_answers_at_all_leaves_every_rule_unanswered():
    result = evaluate(DEFAULT_RULES, [], today=TODAY)

    assert result.unanswered == DEFAULT_RULES
    assert not result.bookable


def test_answers_to_unknown_questions_are_ignored():
    answers = [Answer(code, yes=False) for code in CODES] + [Answer("tattoo", yes=True)]

    result = evaluate(DEFAULT_RULES, answers, today=TODAY)

    assert result.outcome == Outcome.CLEAR
    assert result.bookable


def test_bookable_and_needs_consultation_follow_the_outcome():
    for outcome in Outcome:
        result = ScreeningResult(outcome, (), ())
        assert result.bookable is (outcome in (Outcome.CLEAR, Outcome.PROVIDER_REVIEW))
        assert result.needs_consultation is (outcome == Outcome.CONSULT_FIRST)


@given(
    st.sets(st.sampled_from(CODES)),
    st.booleans(),
)
def test_outcome_is_the_most_severe_deciding_trigger(yes, cleared):
    result = screen(*yes, cleared_for_protocol=cleared)

    assert set(codes(result.triggered)) == yes
    severities = [rule.outcome.severity for rule in result.triggered]
    assert severities == sorted(severities, reverse=True)
    deciding = [
        rule.outcome
        for rule in result.triggered
        if not (cleared and rule.outcome == Outcome.CONSULT_FIRST)
    ]
    assert result.outcome == max(deciding, key=lambda o: o.severity, default=Outcome.CLEAR)
    assert result.outcome.severity <= max(severities, default=0)


# answers_are_current


def test_answers_from_today_are_current():
    assert answers_are_current(TODAY, today=TODAY)


def test_answers_from_yesterday_must_be_reconfirmed():
    assert not answers_are_current(TODAY - timedelta(days=1), today=TODAY)


def test_answers_may_be_allowed_an_age():
    assert answers_are_current(TODAY - timedelta(days=3), today=TODAY, max_age_days=3)
    assert not answers_are_current(TODAY - timedelta(days=4), today=TODAY, max_age_days=3)


def test_answers_dated_in_the_future_are_not_current():
    assert not answers_are_current(TODAY + timedelta(days=1), today=TODAY, max_age_days=3)
