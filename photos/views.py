"""Photo pages: a visit's photos (upload from a phone), a plan's progress for staff and for the
patient, the record export, and the one view that ever sends a photo's bytes.

Every photo is shown through `serve`, with a link made for the signed-in user that lives five
minutes (photos.services.link); the view checks access again, records a PhotoView and answers
with `Cache-Control: private, no-store`. Nothing under MEDIA_ROOT has a public URL.
"""

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import (
    NotYours,
    aesthetician_required,
    front_desk_required,
    own_or_404,
    patient_of,
    patient_required,
)
from booking.models import Appointment, Patient, TreatmentPlan
from charts import day
from photos import access, services
from photos.export import export_record
from photos.forms import UploadForm
from photos.models import Photo, PhotoView, photo_storage
from photos.progress import progress


def _links(photos, user) -> None:
    """Give each photo its short-lived thumbnail and full-size links for `user`."""
    for photo in photos:
        photo.thumb_url = services.link(photo, PhotoView.Variant.THUMBNAIL, user)
        photo.full_url = services.link(photo, PhotoView.Variant.ORIGINAL, user)


def _visit_for(request, pk: int) -> Appointment:
    appointment = get_object_or_404(
        Appointment.objects.select_related(
            "patient", "treatment", "location", "room", "provider", "plan"
        ),
        pk=pk,
    )
    if not access.may_see_patient(request.user, appointment.patient):
        raise NotYours("This visit is not on your schedule.")
    return appointment


@never_cache  # health data: no browser or proxy may keep a copy
@aesthetician_required
@require_http_methods(["GET", "POST"])
def visit_photos(request, pk: int):
    appointment = _visit_for(request, pk)
    can_upload = services.may_upload(request.user, appointment)
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if not can_upload:
            raise PermissionDenied("Only the visit's aesthetician or the desk adds photos.")
        if form.is_valid():
            try:
                added = services.upload_photos(
                    appointment=appointment,
                    zone=form.cleaned_data["zone"],
                    kind=form.cleaned_data["kind"],
                    files=form.uploads(),
                    shareable=form.cleaned_data["shareable"],
                    actor=request.user,
                    now=timezone.now(),
                )
            except services.PhotoRejected as error:
                form.add_error("photos", error.message)
                status = error.status_code
            else:
                count = len(added)
                messages.success(
                    request,
                    ngettext("%(count)s photo saved.", "%(count)s photos saved.", count)
                    % {"count": count},
                )
                return redirect("photos:visit", pk=appointment.pk)
        else:
            status = 400
    photos = list(
        access.visible_photos(request.user)
        .filter(appointment=appointment)
        .select_related("appointment")
        .order_by("zone", "kind", "id")
    )
    _links(photos, request.user)
    return render(
        request,
        "photos/visit.html",
        {
            "appointment": appointment,
            "session_label": day.session_label(appointment),
            "form": form,
            "can_upload": can_upload,
            "photos": photos,
            "release_given": services.release_given(appointment.patient),
        },
        status=status,
    )


@aesthetician_required
@require_POST
def photo_shareable(request, pk: int):
    photo = get_object_or_404(Photo.objects.select_related("appointment__plan"), pk=pk)
    if not access.can_view(request.user, photo):
        raise NotYours("No such photo.")
    if not services.may_upload(request.user, photo.appointment):
        raise PermissionDenied("Only the visit's aesthetician or the desk shares photos.")
    shareable = request.POST.get("shareable") == "1"
    services.set_shareable(photo=photo, shareable=shareable, actor=request.user, now=timezone.now())
    messages.success(
        request,
        _("Photo shared with the patient.") if shareable else _("Photo kept to the record."),
    )
    return redirect("photos:visit", pk=photo.appointment_id)


def _plan_page(request, plan: TreatmentPlan, photos, *, template: str, staff: bool):
    shown = progress(plan, photos, charted_zones=staff)
    _links([p for row in shown.zones for c in row.cells for p in c.before + c.after], request.user)
    return render(request, template, {"plan": plan, "progress": shown, "staff": staff})


@never_cache  # health data: no browser or proxy may keep a copy
@aesthetician_required
@require_GET
def plan_progress(request, pk: int):
    plan = get_object_or_404(
        TreatmentPlan.objects.select_related("patient", "treatment", "location", "provider"),
        pk=pk,
    )
    if not access.may_see_patient(request.user, plan.patient):
        raise NotYours("This patient is not on your schedule.")
    return _plan_page(
        request,
        plan,
        access.visible_photos(request.user),
        template="photos/progress.html",
        staff=True,
    )


@never_cache  # health data: no browser or proxy may keep a copy
@patient_required
@require_GET
def my_progress(request, pk: int):
    patient = patient_of(request.user)
    plan = own_or_404(
        TreatmentPlan.objects.filter(patient=patient).select_related("treatment", "location"),
        pk=pk,
    )
    return _plan_page(
        request,
        plan,
        access.visible_photos(request.user),
        template="photos/my_progress.html",
        staff=False,
    )


@never_cache
@front_desk_required
@require_POST
def export(request, pk: int):
    patient = get_object_or_404(Patient, pk=pk)
    now = timezone.now()
    archive = export_record(patient=patient, actor=request.user, now=now)
    return FileResponse(
        archive,
        as_attachment=True,
        filename=f"patient-{patient.pk}-record-{now:%Y%m%d}.zip",
        content_type="application/zip",
    )


@require_GET
def serve(request, token: str):
    """The bytes of one photo, for the user the link was made for, if they may still see it."""
    if not request.user.is_authenticated:
        raise NotYours("No such photo.")
    try:
        pk, variant = services.open_link(token, request.user)
    except services.PhotoLinkExpired as error:
        refusal = HttpResponse(error.message, status=403, content_type="text/plain")
        refusal["Cache-Control"] = "private, no-store"
        return refusal
    except (signing.BadSignature, ValueError):
        raise NotYours("No such photo.") from None
    photo = access.visible_photos(request.user).filter(pk=pk).first()
    if photo is None:
        raise NotYours("No such photo.")
    services.record_view(photo=photo, variant=variant, viewer=request.user, now=timezone.now())
    name = photo.thumbnail.name if variant == PhotoView.Variant.THUMBNAIL else photo.original.name
    response = FileResponse(photo_storage().open(name, "rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = f'inline; filename="photo-{photo.pk}-{variant}.jpg"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
