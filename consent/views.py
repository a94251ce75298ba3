"""Signing a consent form and reading the signed PDF.

A patient signs for their own visit under /my/; the front desk or the visit's aesthetician
hands a tablet over at check-in under /staff/, and is recorded as the witness. The PDF is
streamed only to the patient it belongs to, the front desk, and an aesthetician with that
patient on their schedule; anyone else gets a 404 (never saying it exists).
"""

from django.contrib import messages
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.ratelimit import client_ip
from accounts.roles import (
    NotYours,
    is_aesthetician,
    is_front_desk,
    own_or_404,
    patient_of,
    patient_required,
    staff_required,
)
from booking import services as booking_services
from booking.models import Appointment
from consent import services
from consent.forms import SignForm
from consent.models import ConsentFormVersion, ConsentSignature


def _visits() -> QuerySet[Appointment]:
    return Appointment.objects.select_related("patient", "treatment", "location", "provider")


def _next_version(appointment: Appointment, chosen: str | None) -> ConsentFormVersion | None:
    """The version the page asks for: the one chosen (if offered), else the first required
    form not yet signed on its current version, else an unsigned photo release."""
    offered = services.versions_to_sign(appointment)
    if chosen and chosen.isdigit():
        for version in offered:
            if version.pk == int(chosen):
                return version
    signed = set(
        ConsentSignature.objects.filter(
            patient_id=appointment.patient_id, version__in=offered
        ).values_list("version_id", flat=True)
    )
    return next((v for v in offered if v.pk not in signed), None)


def _sign_page(request, appointment: Appointment, *, witness: bool, back: str):
    version = _next_version(appointment, request.GET.get("version") or request.POST.get("version"))
    if version is None:
        return render(
            request,
            "consent/sign_done.html",
            {
                "appointment": appointment,
                "signatures": services.signed_forms_for(appointment.patient).filter(
                    version__in=services.versions_to_sign(appointment)
                ),
                "back": back,
                "witness": witness,
            },
        )
    text = services.render_version(version)
    form = SignForm(request.POST or None, version=version)
    if request.method == "POST" and form.is_valid():
        try:
            services.sign(
                version=version,
                patient=appointment.patient,
                appointment=appointment,
                shown_sha256=form.cleaned_data["text_sha256"],
                signature_data_url=form.cleaned_data["signature"],
                ticked=form.ticked(),
                now=timezone.now(),
                ip_address=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
                actor=request.user,
                witness=request.user if witness else None,
            )
        except booking_services.BookingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, _("Signed: %(title)s (v%(number)s).") % version_labels(version)
            )
            return redirect(request.path)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "consent/sign.html",
        {
            "appointment": appointment,
            "version": version,
            "text": text,
            "sha256": services.text_sha256(text),
            "form": form,
            "witness": witness,
            "back": back,
        },
        status=status,
    )


def version_labels(version: ConsentFormVersion) -> dict[str, object]:
    return {"title": version.title, "number": version.number}


@never_cache  # health data: no browser or proxy may keep a copy
@patient_required
@require_http_methods(["GET", "POST"])
def patient_sign(request, pk: int):
    patient = patient_of(request.user)
    appointment = own_or_404(_visits().filter(patient=patient), pk=pk)
    return _sign_page(
        request, appointment, witness=False, back=reverse("visit_detail", args=[appointment.pk])
    )


def _staff_visit(request, pk: int) -> Appointment:
    appointment = get_object_or_404(_visits(), pk=pk)
    if is_front_desk(request.user):
        return appointment
    if appointment.provider_id != getattr(getattr(request.user, "provider", None), "pk", None):
        raise NotYours("This visit is not on your schedule.")
    return appointment


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def staff_sign(request, pk: int):
    appointment = _staff_visit(request, pk)
    back = (
        reverse("desk:appointment", args=[pk])
        if is_front_desk(request.user)
        else reverse("visit_chart", args=[pk])
    )
    return _sign_page(request, appointment, witness=True, back=back)


def _may_read(user, signature: ConsentSignature) -> bool:
    if is_front_desk(user):
        return True
    patient = patient_of(user)
    if patient is not None and patient.pk == signature.patient_id:
        return True
    if is_aesthetician(user):
        return Appointment.objects.filter(
            patient_id=signature.patient_id, provider=user.provider
        ).exists()
    return False


@never_cache
@require_GET
def signed_pdf(request, pk: int):
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    signature = ConsentSignature.objects.filter(pk=pk).select_related("version").first()
    if signature is None or not _may_read(request.user, signature):
        raise NotYours("No such consent form for your account.")
    if not signature.pdf:
        return HttpResponseBadRequest(_("This signature has no PDF."))
    if patient_of(request.user) is None or patient_of(request.user).pk != signature.patient_id:
        booking_services.audit(
            actor=request.user,
            action="consent_pdf_viewed",
            patient=signature.patient,
            changes={"signature": signature.pk},
            now=timezone.now(),
        )
    return FileResponse(
        signature.pdf.open("rb"),
        content_type="application/pdf",
        filename=f"consent-{signature.version.title}-v{signature.version.number}.pdf",
    )
