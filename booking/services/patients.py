"""Patient records: created by the front desk for a phone booking, edited by staff or by the
patient, and their reminder consent changed (by the patient, or by an SMS reply). Every
change is audited; a consent change is announced (booking.events.patient_consent_changed).
A record's email is the one its online account signs in with: changing it moves the account
too, or is refused when another account already uses that email."""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from phonenumber_field.phonenumber import PhoneNumber  # type: ignore[import-untyped]

from booking import events, phones
from booking.models import Location, Patient
from booking.services.audit import Actor, audit, field_changes
from booking.services.errors import EmailInUse

CONSENT_FIELDS = ("email_consent", "sms_consent")
EMAIL_TAKEN = (
    "Another account already uses that email. Keep the old one, or ask the clinic owner to "
    "merge the two accounts."
)
SIGN_UP_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "date_of_birth",
    "email_consent",
    "sms_consent",
)


def _value(value: object) -> object:
    if isinstance(value, PhoneNumber):
        return str(value)
    return value.isoformat() if isinstance(value, date) else value


def snapshot(patient: Patient, fields: Iterable[str]) -> dict[str, Any]:
    """The audit trail's view of a patient's fields (dates as ISO strings)."""
    return {field: _value(getattr(patient, field)) for field in fields}


@transaction.atomic
def create_patient(
    *, actor: Actor, now: datetime, phone_region: str | None = None, **details: Any
) -> Patient:
    """A new patient record from the front desk (a phone booking): no SMS until they agree.
    A phone typed without its country code is read in `phone_region` (the booking's location);
    one that is not a number raises ValidationError."""
    details = {k: v.strip() if isinstance(v, str) else v for k, v in details.items()}
    details.setdefault("sms_consent", False)
    if "phone" in details:
        details["phone"] = phones.to_e164(details["phone"], phone_region)
    patient = Patient.objects.create(**details)
    audit(
        actor=actor,
        action="patient_created",
        patient=patient,
        changes={f: [None, _value(v)] for f, v in details.items() if f != "sms_consent"},
        now=now,
    )
    return patient


@transaction.atomic
def save_patient(
    patient: Patient,
    *,
    before: dict[str, Any],
    actor: Actor,
    now: datetime,
    action: str = "patient_edited",
    reason: str = "",
) -> dict[str, list[Any]]:
    """Save edits made to `patient` (by a form), audited as changes from `before` (a
    `snapshot` taken before the edit). Returns the changes; nothing is written without any."""
    after = snapshot(patient, before)
    changes = field_changes(before, after)
    if not changes:
        return {}
    account = carry_email_to_account(patient) if "email" in changes else None
    patient.save(update_fields=list(changes))
    if account:
        changes["account"] = account
    audit(actor=actor, action=action, patient=patient, reason=reason, changes=changes, now=now)
    consent = {f: c for f, c in changes.items() if f in CONSENT_FIELDS}
    if consent:
        events.patient_consent_changed.send(Patient, patient=patient, now=now, changes=consent)
    return changes


def account_email_problem(user: User | None, email: str) -> str | None:
    """Why `email` cannot be the email of `user`'s account (the one a patient record is
    linked to), or None when it can (or there is no account)."""
    if user is None:
        return None
    if not email.strip():
        return "This patient signs in online with their email, so it cannot be blank."
    taken = (
        User.objects.filter(Q(username__iexact=email.strip()) | Q(email__iexact=email.strip()))
        .exclude(pk=user.pk)
        .exists()
    )
    if taken:
        return EMAIL_TAKEN
    return None


def carry_email_to_account(patient: Patient) -> list[str] | None:
    """Give the patient's account the record's (new) email, and its username too when the
    username was the old email. Raises EmailInUse (nothing changed) when another account
    already uses it; returns the username as [before, after] when it changed. Every door
    that edits a record's email (desk, admin) calls this, inside its transaction."""
    user = patient.user
    if user is None:
        return None
    problem = account_email_problem(user, patient.email)
    if problem:
        raise EmailInUse(problem)
    email = patient.email.strip().lower()
    before, before_email = user.username, user.email
    if user.username.lower() == user.email.lower():
        user.username = email
    user.email = email
    try:
        with transaction.atomic():
            user.save(update_fields=["username", "email"])
    except IntegrityError as error:  # the same username, taken a moment ago
        user.username, user.email = before, before_email
        raise EmailInUse(EMAIL_TAKEN) from error
    return [before, user.username] if user.username != before else None


def set_consent(
    patient: Patient, *, now: datetime, actor: Actor = None, reason: str = "", **consent: bool
) -> dict[str, list[Any]]:
    """Change email and/or SMS consent (e.g. `sms_consent=False`), audited."""
    unknown = set(consent) - set(CONSENT_FIELDS)
    if unknown:
        raise TypeError(f"Not a consent field: {', '.join(sorted(unknown))}")
    before = snapshot(patient, consent)
    for field, value in consent.items():
        setattr(patient, field, value)
    return save_patient(
        patient, before=before, actor=actor, now=now, action="consent_changed", reason=reason
    )


def phone_region(patient: Patient | None = None, location: Location | None = None) -> str:
    """The region a number typed without its country code is read in: the location's (the
    one being booked), else that of the patient's latest visit or plan, else the default."""
    if location is None and patient is not None and patient.pk:
        location = (
            Location.objects.filter(appointments__patient=patient)
            .order_by("-appointments__start")
            .first()
            or Location.objects.filter(plans__patient=patient).order_by("-plans__pk").first()
        )
    return location.country if location is not None else phones.default_region()


def patients_with_phone(phone: str) -> list[Patient]:
    """Patients whose number is exactly `phone` (as E.164; an SMS provider sends E.164)."""
    try:
        number = phones.to_e164(phone)
    except ValidationError:
        return []
    if not number:
        return []
    return list(Patient.objects.filter(phone=number))


@transaction.atomic
def set_sms_consent_by_phone(phone: str, *, consent: bool, now: datetime, reason: str) -> int:
    """An SMS reply (STOP, START) from `phone`: every patient with that number. Returns how
    many records changed."""
    changed = 0
    for patient in patients_with_phone(phone):
        changed += bool(set_consent(patient, now=now, reason=reason, sms_consent=consent))
    return changed


@transaction.atomic
def record_sign_up(user: User, *, now: datetime, **details: Any) -> Patient:
    """The patient record of an account waiting for its emailed link (created, or started
    over once an earlier sign-up expired: see booking.services.signups), audited."""
    patient = Patient.objects.filter(user=user).first()
    before = snapshot(patient, SIGN_UP_FIELDS) if patient else dict.fromkeys(SIGN_UP_FIELDS)
    patient, _ = Patient.objects.update_or_create(user=user, defaults=details)
    changes = field_changes(before, snapshot(patient, SIGN_UP_FIELDS))
    if changes:
        audit(actor=None, action="signed_up", patient=patient, changes=changes, now=now)
    return patient


@transaction.atomic
def link_online_account(user: User, *, now: datetime) -> None:
    """A patient the front desk booked by phone signs up with the same email: the emailed
    link proved the address is theirs, so the account takes over that record (visits, plans,
    screening history) instead of starting a second one beside it."""
    phone_record = (
        Patient.objects.filter(user=None, email__iexact=user.email).order_by("created_at").first()
    )
    new_record = Patient.objects.filter(user=user).first()
    if phone_record is None or new_record is None or new_record.appointments.exists():
        return
    for field in ("first_name", "last_name", "phone", "email_consent", "sms_consent"):
        setattr(phone_record, field, getattr(new_record, field))
    phone_record.date_of_birth = phone_record.date_of_birth or new_record.date_of_birth
    new_record.screening_answers.update(patient=phone_record)
    new_record.delete()
    phone_record.user = user
    phone_record.save()
    audit(
        actor=user,
        action="linked_online_account",
        patient=phone_record,
        changes={"user": [None, user.username]},
        now=now,
    )
