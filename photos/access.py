"""Who may see which photos: the one place every photo door asks.

- front desk (and superusers): every photo;
- an aesthetician: photos of patients on their own schedule (any visit of that patient with
  them, past or booked), as with charts;
- a patient: their own photos that staff marked shareable (their own record: the photo
  release, `photos.services.release_given`, governs use beyond the record, not this);
- anybody else, and anonymous visitors: none.
"""

from django.db.models import Exists, OuterRef, QuerySet

from accounts.roles import is_aesthetician, is_front_desk, patient_of
from booking.models import Appointment, Patient
from photos.models import Photo

__all__ = ["visible_photos", "can_view", "may_see_patient"]


def visible_photos(user) -> QuerySet[Photo]:
    """The photos `user` may open."""
    photos = Photo.objects.all()
    if is_front_desk(user):
        return photos
    if is_aesthetician(user):
        treats = Appointment.objects.filter(
            patient_id=OuterRef("patient_id"), provider_id=user.provider.pk
        )
        return photos.filter(Exists(treats))
    patient = patient_of(user)
    if patient is not None:
        return photos.filter(patient=patient, shareable=True)
    return photos.none()


def can_view(user, photo: Photo) -> bool:
    return visible_photos(user).filter(pk=photo.pk).exists()


def may_see_patient(user, patient: Patient) -> bool:
    """Staff who may read `patient`'s record: the desk, or an aesthetician treating them."""
    if is_front_desk(user):
        return True
    if is_aesthetician(user):
        return Appointment.objects.filter(patient=patient, provider_id=user.provider.pk).exists()
    return False
