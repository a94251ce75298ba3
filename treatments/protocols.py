"""Series planning for treatment protocols (pure: standard library only).

A protocol is a course of initial sessions a few weeks apart, optionally followed by
maintenance sessions some calendar months after the last initial session. Everything here
works on ``date`` objects in the location's local calendar: no times, no time zones.
Intervals are in days; maintenance offsets are in calendar months.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

INITIAL = "initial"
MAINTENANCE = "maintenance"


class PlanError(ValueError):
    """A plan that the protocol does not allow; the message is meant for a clinic owner."""


@dataclass(frozen=True)
class ProtocolRules:
    """The numbers of a protocol. Intervals and windows in days, offsets in calendar months."""

    min_sessions: int
    default_sessions: int
    max_sessions: int
    interval_min_days: int
    interval_max_days: int
    maintenance_offsets_months: tuple[int, ...] = ()
    maintenance_window_days: int = 14


@dataclass(frozen=True)
class PlannedSession:
    """One session of a plan with its window of local dates (both ends included)."""

    number: int
    kind: str
    earliest: date
    target: date
    latest: date
    fixed: date | None

    def contains(self, day: date) -> bool:
        return self.earliest <= day <= self.latest

    @property
    def planned_date(self) -> date:
        return self.fixed if self.fixed is not None else self.target


def add_months(day: date, months: int) -> date:
    """Move ``day`` by whole calendar months (may be negative), clamping to the month's end.

    Aug 31 + 6 months is Feb 28 (or Feb 29 in a leap year).
    """
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last_day))


def validate_rules(rules: ProtocolRules) -> list[str]:
    """Return the problems with ``rules`` as readable sentences (empty when they are fine)."""
    problems = []
    if min(rules.min_sessions, rules.default_sessions, rules.max_sessions) < 1:
        problems.append("Every number of sessions must be at least 1.")
    if rules.min_sessions > rules.max_sessions:
        problems.append("The minimum number of sessions cannot be more than the maximum.")
    elif not rules.min_sessions <= rules.default_sessions <= rules.max_sessions:
        problems.append(
            "The default number of sessions must be between the minimum and the maximum."
        )
    if rules.interval_min_days < 1:
        problems.append("The shortest interval between sessions must be at least 1 day.")
    if rules.interval_min_days > rules.interval_max_days:
        problems.append("The shortest interval between sessions cannot be longer than the longest.")
    offsets = rules.maintenance_offsets_months
    if any(offset < 1 for offset in offsets):
        problems.append("Maintenance sessions must be at least 1 month after the last session.")
    if any(later <= earlier for earlier, later in zip(offsets, offsets[1:], strict=False)):
        problems.append("Maintenance sessions must be listed in increasing order of months.")
    if rules.maintenance_window_days < 0:
        problems.append("The maintenance window cannot be a negative number of days.")
    return problems


def session_count_problem(rules: ProtocolRules, sessions: int) -> str | None:
    """None when a course may have `sessions` initial sessions, else the message to show:
    the one statement of the rule, for every form, service and API."""
    if rules.min_sessions <= sessions <= rules.max_sessions:
        return None
    return f"Choose between {rules.min_sessions} and {rules.max_sessions} sessions."


def plan_sessions(
    rules: ProtocolRules,
    *,
    sessions: int,
    first_date: date,
    fixed_dates: Mapping[int, date] | None = None,
) -> tuple[PlannedSession, ...]:
    """Plan ``sessions`` initial sessions from ``first_date``, then the maintenance sessions.

    ``fixed_dates`` maps a session number (1-based over the whole plan) to the date it was
    done or booked. A fixed date becomes the anchor for the next session's window, so moving
    one session re-plans all later windows. A fixed date is not forced inside its own window;
    use ``PlannedSession.contains`` to check it.
    """
    problem = session_count_problem(rules, sessions)
    if problem:
        raise PlanError(problem)
    fixed_dates = dict(fixed_dates or {})
    total = sessions + len(rules.maintenance_offsets_months)
    unknown = sorted(number for number in fixed_dates if not 1 <= number <= total)
    if unknown:
        raise PlanError(f"This plan has sessions 1 to {total}; there is no session {unknown[0]}.")

    first = fixed_dates.get(1, first_date)
    plan = [PlannedSession(1, INITIAL, first, first, first, fixed_dates.get(1))]
    anchor = first
    for number in range(2, sessions + 1):
        earliest = anchor + timedelta(days=rules.interval_min_days)
        latest = anchor + timedelta(days=rules.interval_max_days)
        target = earliest + (latest - earliest) // 2
        fixed = fixed_dates.get(number)
        plan.append(PlannedSession(number, INITIAL, earliest, target, latest, fixed))
        anchor = fixed if fixed is not None else target

    window = timedelta(days=rules.maintenance_window_days)
    for number, offset in enumerate(rules.maintenance_offsets_months, start=sessions + 1):
        target = add_months(anchor, offset)
        fixed = fixed_dates.get(number)
        plan.append(
            PlannedSession(number, MAINTENANCE, target - window, target, target + window, fixed)
        )
    return tuple(plan)


def describe(rules: ProtocolRules) -> str:
    """Summarise a protocol in plain words for patients.

    For example "3 to 5 sessions, 4 to 6 weeks apart, then maintenance at 6 and 12 months".
    """
    parts = [_range(rules.min_sessions, rules.max_sessions, "session")]
    if rules.max_sessions > 1:
        low, high = rules.interval_min_days, rules.interval_max_days
        if low % 7 == 0 and high % 7 == 0:
            parts.append(_range(low // 7, high // 7, "week"))
        else:
            parts.append(_range(low, high, "day"))
    text = ", ".join(parts)
    offsets = rules.maintenance_offsets_months
    if offsets:
        *head, last = (str(offset) for offset in offsets)
        listed = (
            _("%(first)s and %(last)s") % {"first": ", ".join(head), "last": last} if head else last
        )
        text += ngettext(
            ", then maintenance at %(months)s month",
            ", then maintenance at %(months)s months",
            offsets[-1],
        ) % {"months": listed}
    return text


def _range(low: int, high: int, unit: str) -> str:
    """ "3 to 5 sessions", "4 to 6 weeks apart", "28 days apart", in the active language."""
    if unit == "session":
        text = (
            ngettext("%(high)s session", "%(high)s sessions", high)
            if low == high
            else ngettext("%(low)s to %(high)s session", "%(low)s to %(high)s sessions", high)
        )
    elif unit == "week":
        text = (
            ngettext("%(high)s week apart", "%(high)s weeks apart", high)
            if low == high
            else ngettext("%(low)s to %(high)s week apart", "%(low)s to %(high)s weeks apart", high)
        )
    else:
        text = (
            ngettext("%(high)s day apart", "%(high)s days apart", high)
            if low == high
            else ngettext("%(low)s to %(high)s day apart", "%(low)s to %(high)s days apart", high)
        )
    return text % {"low": low, "high": high}
