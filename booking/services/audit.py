"""Who changed what, when: the audit trail every service writes in its own transaction."""

from datetime import datetime
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser, User

from booking.models import Appointment, AuditEntry, Patient, TreatmentPlan

# Whoever is on the request: a user, an anonymous visitor, or nobody (a task, a test).
Actor = User | AnonymousUser | None
Changes = dict[str, Any]  # {field: [before, after]}, and markers such as "course_session"


def signed_in_or_none(user: Actor) -> User | None:
    """The user to record as the actor, or None for an anonymous request or no user: the one
    place that turns "whoever is on the request" into a foreign key."""
    return cast(User, user) if getattr(user, "is_authenticated", False) else None


def audit(
    *,
    actor: Actor,
    action: str,
    appointment: Appointment | None = None,
    patient: Patient | None = None,
    plan: TreatmentPlan | None = None,
    reason: str = "",
    changes: Changes | None = None,
    now: datetime,
) -> AuditEntry:
    """Record one change. `changes` is {field: [before, after]}."""
    if appointment is not None:
        patient = patient or appointment.patient
        plan = plan or appointment.plan
    return AuditEntry.objects.create(
        at=now,
        actor=signed_in_or_none(actor),
        action=action,
        appointment=appointment,
        patient=patient,
        plan=plan,
        reason=reason,
        changes=changes or {},
    )


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> Changes:
    """{field: [before, after]} for the fields whose value changed."""
    return {
        field: [before[field], after[field]] for field in after if before[field] != after[field]
    }
