from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treatments.protocols import (
    PlanError,
    PlannedSession,
    ProtocolRules,
    add_months,
    describe,
    plan_sessions,
    validate_rules,
)

MICRONEEDLING = ProtocolRules(
    min_sessions=3,
    default_sessions=3,
    max_sessions=5,
    interval_min_days=28,
    interval_max_days=42,
    maintenance_offsets_months=(6, 12),
)


def windows(plan):
    return [(s.earliest, s.target, s.latest) for s in plan]


# add_months


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2027, 8, 31), 6, date(2028, 2, 29)),
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 12, 31), 12, date(2027, 12, 31)),
        (date(2026, 12, 31), 1, date(2027, 1, 31)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2026, 5, 15), 0, date(2026, 5, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2027, 2, 28), -6, date(2026, 8, 28)),
        (date(2026, 6, 30), -18, date(2024, 12, 30)),
    ],
)
def test_add_months_clamps_month_ends(day, months, expected):
    assert add_months(day, months) == expected


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31)), st.integers(-600, 600))
def test_add_months_lands_in_the_right_month_and_never_later_in_it(day, months):
    result = add_months(day, months)
    assert result.year * 12 + result.month == day.year * 12 + day.month + months
    assert result.day <= day.day
    if result.day < day.day:
        assert (result + timedelta(days=1)).day == 1  # clamped to the month's last day


# plan_sessions: microneedling


def test_it_plans_microneedling_windows():
    plan = plan_sessions(MICRONEEDLING, sessions=3, first_date=date(2026, 3, 2))

    assert windows(plan) == [
        (date(2026, 3, 2), date(2026, 3, 2), date(2026, 3, 2)),
        (date(2026, 3, 30), date(2026, 4, 6), date(2026, 4, 13)),
        (date(2026, 5, 4), date(2026, 5, 11), date(2026, 5, 18)),
        (date(2026, 10, 28), date(2026, 11, 11), date(2026, 11, 25)),
        (date(2027, 4, 27), date(2027, 5, 11), date(2027, 5, 25)),
    ]
    assert [s.number for s in plan] == [1, 2, 3, 4, 5]
    assert [s.kind for s in plan] == ["initial"] * 3 + ["maintenance"] * 2
    assert all(s.fixed is None for s in plan)


def test_a_late_session_moves_the_next_window():
    fixed = {2: date(2026, 4, 13)}
    plan = plan_sessions(MICRONEEDLING, sessions=3, first_date=date(2026, 3, 2), fixed_dates=fixed)

    assert plan[1].fixed == date(2026, 4, 13)
    assert plan[1].planned_date == date(2026, 4, 13)
    assert plan[1].target == date(2026, 4, 6)  # its own window is unchanged
    assert (plan[2].earliest, plan[2].target, plan[2].latest) == (
        date(2026, 5, 11),
        date(2026, 5, 18),
        date(2026, 5, 25),
    )


def test_maintenance_follows_the_last_initial_session():
    fixed = {1: date(2026, 3, 2), 2: date(2026, 4, 6), 3: date(2026, 8, 31)}
    plan = plan_sessions(MICRONEEDLING, sessions=3, first_date=date(2026, 3, 2), fixed_dates=fixed)

    assert plan[3].target == date(2027, 2, 28)
    assert plan[3].earliest == date(2027, 2, 14)
    assert plan[3].latest == date(2027, 3, 14)
    assert plan[4].target == date(2027, 8, 31)


def test_maintenance_follows_the_chosen_session_count():
    plan = plan_sessions(MICRONEEDLING, sessions=5, first_date=date(2026, 1, 5))

    assert [s.kind for s in plan] == ["initial"] * 5 + ["maintenance"] * 2
    assert [s.number for s in plan] == [1, 2, 3, 4, 5, 6, 7]
    assert plan[5].target == add_months(plan[4].target, 6)


def test_a_fixed_first_session_replaces_the_first_date():
    plan = plan_sessions(
        MICRONEEDLING,
        sessions=3,
        first_date=date(2026, 3, 2),
        fixed_dates={1: date(2026, 3, 5)},
    )

    assert windows(plan)[0] == (date(2026, 3, 5),) * 3
    assert plan[0].fixed == date(2026, 3, 5)
    assert plan[1].earliest == date(2026, 4, 2)


def test_a_fixed_date_is_reported_even_outside_its_window():
    plan = plan_sessions(
        MICRONEEDLING,
        sessions=3,
        first_date=date(2026, 3, 2),
        fixed_dates={2: date(2026, 5, 1), 4: date(2026, 12, 24)},
    )

    assert plan[1].fixed == date(2026, 5, 1)
    assert not plan[1].contains(date(2026, 5, 1))
    assert plan[3].fixed == date(2026, 12, 24)
    assert not plan[3].contains(plan[3].planned_date)
    # a fixed maintenance date does not move the next maintenance session
    assert plan[4].target == add_months(plan[2].target, 12)


def test_contains_includes_both_ends():
    session = PlannedSession(
        2, "initial", date(2026, 3, 30), date(2026, 4, 6), date(2026, 4, 13), None
    )

    assert session.contains(date(2026, 3, 30))
    assert session.contains(date(2026, 4, 13))
    assert not session.contains(date(2026, 3, 29))
    assert not session.contains(date(2026, 4, 14))
    assert session.planned_date == date(2026, 4, 6)


def test_a_protocol_without_maintenance_plans_only_initial_sessions():
    rules = ProtocolRules(1, 1, 1, 1, 1)

    plan = plan_sessions(rules, sessions=1, first_date=date(2026, 3, 2))

    assert windows(plan) == [(date(2026, 3, 2),) * 3]


@pytest.mark.parametrize("sessions", [0, 2, 6])
def test_it_refuses_a_session_count_outside_the_protocol(sessions):
    with pytest.raises(PlanError, match="between 3 and 5"):
        plan_sessions(MICRONEEDLING, sessions=sessions, first_date=date(2026, 3, 2))


@pytest.mark.parametrize("number", [0, 6])
def test_it_refuses_a_fixed_date_for_a_session_not_in_the_plan(number):
    with pytest.raises(PlanError, match=f"no session {number}"):
        plan_sessions(
            MICRONEEDLING,
            sessions=3,
            first_date=date(2026, 3, 2),
            fixed_dates={number: date(2026, 3, 2)},
        )


# plan_sessions: properties


@st.composite
def valid_rules(draw):
    min_sessions = draw(st.integers(1, 6))
    max_sessions = draw(st.integers(min_sessions, 8))
    interval_min = draw(st.integers(1, 60))
    offsets = draw(st.lists(st.integers(1, 36), max_size=4, unique=True).map(sorted))
    return ProtocolRules(
        min_sessions=min_sessions,
        default_sessions=draw(st.integers(min_sessions, max_sessions)),
        max_sessions=max_sessions,
        interval_min_days=interval_min,
        interval_max_days=draw(st.integers(interval_min, 120)),
        maintenance_offsets_months=tuple(offsets),
        maintenance_window_days=draw(st.integers(0, 30)),
    )


@st.composite
def plans(draw):
    rules = draw(valid_rules())
    sessions = draw(st.integers(rules.min_sessions, rules.max_sessions))
    total = sessions + len(rules.maintenance_offsets_months)
    first_date = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)))
    fixed_dates = draw(
        st.dictionaries(
            st.integers(1, total),
            st.dates(min_value=date(2000, 1, 1), max_value=date(2095, 12, 31)),
        )
    )
    return rules, sessions, first_date, fixed_dates


@given(plans())
def test_valid_rules_have_no_problems(case):
    rules, *_ = case
    assert validate_rules(rules) == []


@given(plans())
def test_plan_windows_follow_the_anchor_of_the_previous_session(case):
    rules, sessions, first_date, fixed_dates = case

    plan = plan_sessions(rules, sessions=sessions, first_date=first_date, fixed_dates=fixed_dates)

    offsets = rules.maintenance_offsets_months
    assert [s.number for s in plan] == list(range(1, sessions + len(offsets) + 1))
    assert [s.kind for s in plan] == ["initial"] * sessions + ["maintenance"] * len(offsets)
    assert [s.fixed for s in plan] == [fixed_dates.get(s.number) for s in plan]
    for session in plan:
        assert session.earliest <= session.target <= session.latest
    first_anchor = fixed_dates.get(1, first_date)
    assert (plan[0].earliest, plan[0].target, plan[0].latest) == (first_anchor,) * 3
    initial = plan[:sessions]
    for previous, session in zip(initial, initial[1:], strict=False):
        anchor = previous.planned_date
        assert session.earliest == anchor + timedelta(days=rules.interval_min_days)
        assert session.latest == anchor + timedelta(days=rules.interval_max_days)
        assert session.target - session.earliest in (
            session.latest - session.target,
            session.latest - session.target - timedelta(days=1),
        )
    last_anchor = initial[-1].planned_date
    window = timedelta(days=rules.maintenance_window_days)
    for session, months in zip(plan[sessions:], offsets, strict=True):
        assert session.target == add_months(last_anchor, months)
        assert session.earliest == session.target - window
        assert session.latest == session.target + window


@given(plans(), st.integers(-3, 12))
def test_plan_refuses_counts_outside_min_and_max(case, sessions):
    rules, _, first_date, _ = case
    if rules.min_sessions <= sessions <= rules.max_sessions:
        assert len(plan_sessions(rules, sessions=sessions, first_date=first_date)) >= sessions
    else:
        with pytest.raises(PlanError):
            plan_sessions(rules, sessions=sessions, first_date=first_date)


# validate_rules


def test_microneedling_rules_are_valid():
    assert validate_rules(MICRONEEDLING) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (
            {"default_sessions": 6},
            "The default number of sessions must be between the minimum and the maximum.",
        ),
        (
            {"default_sessions": 2},
            "The default number of sessions must be between the minimum and the maximum.",
        ),
        (
            {"min_sessions": 6, "default_sessions": 6},
            "The minimum number of sessions cannot be more than the maximum.",
        ),
        (
            {"min_sessions": 0, "default_sessions": 0},
            "Every number of sessions must be at least 1.",
        ),
        (
            {"interval_min_days": 0},
            "The shortest interval between sessions must be at least 1 day.",
        ),
        (
            {"interval_min_days": 43},
            "The shortest interval between sessions cannot be longer than the longest.",
        ),
        (
            {"maintenance_offsets_months": (0, 6)},
            "Maintenance sessions must be at least 1 month after the last session.",
        ),
        (
            {"maintenance_offsets_months": (12, 6)},
            "Maintenance sessions must be listed in increasing order of months.",
        ),
        (
            {"maintenance_offsets_months": (6, 6)},
            "Maintenance sessions must be listed in increasing order of months.",
        ),
        (
            {"maintenance_window_days": -1},
            "The maintenance window cannot be a negative number of days.",
        ),
    ],
)
def test_validate_rules_explains_each_problem(changes, problem):
    fields = {**MICRONEEDLING.__dict__, **changes}

    assert validate_rules(ProtocolRules(**fields)) == [problem]


def test_validate_rules_lists_every_problem():
    rules = ProtocolRules(5, 1, 3, 10, 5, (12, 6))

    assert len(validate_rules(rules)) == 3


# describe


@pytest.mark.parametrize(
    ("rules", "text"),
    [
        (MICRONEEDLING, "3 to 5 sessions, 4 to 6 weeks apart, then maintenance at 6 and 12 months"),
        (ProtocolRules(3, 3, 3, 28, 42), "3 sessions, 4 to 6 weeks apart"),
        (ProtocolRules(1, 1, 1, 1, 1), "1 session"),
        (ProtocolRules(1, 1, 1, 1, 1, (6,)), "1 session, then maintenance at 6 months"),
        (ProtocolRules(1, 1, 3, 7, 7), "1 to 3 sessions, 1 week apart"),
        (ProtocolRules(4, 4, 6, 14, 14), "4 to 6 sessions, 2 weeks apart"),
        (ProtocolRules(2, 2, 4, 10, 20), "2 to 4 sessions, 10 to 20 days apart"),
        (ProtocolRules(2, 2, 4, 28, 30), "2 to 4 sessions, 28 to 30 days apart"),
        (ProtocolRules(2, 2, 2, 1, 1), "2 sessions, 1 day apart"),
        (
            ProtocolRules(3, 3, 6, 21, 35, (6, 12, 18)),
            "3 to 6 sessions, 3 to 5 weeks apart, then maintenance at 6, 12 and 18 months",
        ),
        (
            ProtocolRules(2, 2, 2, 28, 28, (1,)),
            "2 sessions, 4 weeks apart, then maintenance at 1 month",
        ),
    ],
)
def test_describe_in_plain_words(rules, text):
    assert describe(rules) == text
