"""Who the API acts for, and which visits they reach.

Front desk staff act for any patient and see every visit; an aesthetician sees the visits
they give; a patient books for, sees, moves and cancels only their own. Someone else's visit
is a 404, not a 403, so its id reveals nothing.
"""

from django.db.models import Q
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied

from accounts import roles
from api.fields import MAX_ID
from api.serializers import appointment_rows
from booking.models import Appointment, Patient


def is_desk(user) -> bool:
    """Front desk staff (the group or a superuser) act for any patient. Django's is_staff only
    opens the admin: an aesthetician with admin access is still an aesthetician here."""
    return roles.is_front_desk(user)


def own_patient(user) -> Patient:
    """The signed-in patient's record; an account without one cannot book (403)."""
    patient = roles.patient_of(user)
    if patient is None:
        raise PermissionDenied(
            "This account has no patient record, so it cannot book. Please call the clinic."
        )
    return patient


def patient_to_book_for(patient_id: int | None, *, desk: bool, own: Patient | None) -> Patient:
    """A patient books for themselves; the front desk must name the patient."""
    if not desk:
        if patient_id is not None and patient_id != own.pk:
            raise PermissionDenied("Only the front desk can book for another patient.")
        return own
    if patient_id is None:
        raise serializers.ValidationError({"patient": ["Say which patient this booking is for."]})
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise serializers.ValidationError({"patient": [f"There is no patient {patient_id}."]})
    return patient


def visible_appointments(user):
    """Front desk see every visit; an aesthetician sees the visits they give; a patient sees
    their own. Anything else is a 404, not a 403, so ids of others' visits reveal nothing."""
    if is_desk(user):
        return appointment_rows()
    mine = Q(patient__user=user)
    if roles.is_aesthetician(user):
        mine |= Q(provider__user=user)
    return appointment_rows().filter(mine)


def visible_appointment(user, pk: int) -> Appointment:
    appointment = visible_appointments(user).filter(pk=pk).first() if pk <= MAX_ID else None
    if appointment is None:
        raise NotFound("There is no such appointment for you.")
    return appointment


def changeable_appointment(user, pk: int) -> Appointment:
    """A visit the user may move or cancel: their own, or any for the front desk."""
    appointment = visible_appointment(user, pk)
    if not is_desk(user) and appointment.patient.user_id != user.pk:
        raise PermissionDenied("Please ask the front desk to move or cancel a patient's visit.")
    return appointment


def staff_appointment(user, pk: int) -> Appointment:
    """A visit whose status the user may change: any for the front desk, their own for an
    aesthetician; patients change no statuses (403)."""
    appointment = visible_appointment(user, pk)
    if is_desk(user):
        return appointment
    if not roles.is_aesthetician(user) or appointment.provider.user_id != user.pk:
        raise PermissionDenied("Only the clinic's staff change a visit's status.")
    return appointment
