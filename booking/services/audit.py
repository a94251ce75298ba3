"""Who changed what, when: the audit trail every service writes in its own transaction."""

from datetime import datetime

from booking.models import Appointment, AuditEntry, Patient, TreatmentPlan


def signed_in_or_none(user):
    """The user to record as the actor, or None for an anonymous request or no user: the one
    place that turns "whoever is on the request" into a foreign key."""
    return user if getattr(user, "is_authenticated", False) else None


def audit(
    *,
    actor,
    action: str,
    appointment: Appointment | None = None,
    patient: Patient | None = None,
    plan: TreatmentPlan | None = None,
    reason: str = "",
    changes: dict | None = None,
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


def field_changes(before: dict, after: dict) -> dict[str, list]:
    """{field: [before, after]} for the fields whose value changed."""
    return {
        field: [before[field], after[field]] for field in after if before[field] != after[field]
    }
