"""Patient records at the desk: search, the record with plans, visits, messages and audit
trail, and edits (audited here, field by field)."""

from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.roles import front_desk_required
from booking import services
from booking.models import Appointment, AuditEntry, Location, Patient
from desk.forms import PatientForm
from desk.views.common import _labelled, _now
from desk.views.plans import _plan_rows

SEARCH_LIMIT = 25
PATIENT_AUDIT_FIELDS = PatientForm.Meta.fields


def search_patients(query: str):
    """Patients matching every word of ``query`` in a name, email or phone, in name order."""
    return Patient.objects.search(query).order_by("last_name", "first_name", "pk")


@front_desk_required
@require_GET
def patient_list(request):
    query = request.GET.get("q", "").strip()
    results = list(search_patients(query)[: SEARCH_LIMIT + 1]) if query else []
    context = {
        "query": query,
        "patients": results[:SEARCH_LIMIT],
        "more": len(results) > SEARCH_LIMIT,
    }
    if request.htmx and request.GET.get("pick"):
        return render(request, "staff/_patient_pick.html", context)
    if request.htmx:
        return render(request, "staff/_patient_results.html", context)
    return render(request, "staff/patients.html", context)


@never_cache  # health data: no browser or proxy may keep a copy
@front_desk_required
@require_GET
def patient_detail(request, pk: int):
    patient = get_object_or_404(Patient, pk=pk)
    plans = patient.plans.select_related(
        "treatment__protocol", "location", "provider"
    ).prefetch_related(
        Prefetch(
            "appointments",
            queryset=Appointment.objects.select_related("provider").order_by("start"),
        )
    )
    appointments = patient.appointments.select_related(
        "treatment", "location", "provider", "plan"
    ).order_by("-start")
    notifications = patient.notifications.select_related("appointment").order_by("-due_at")[:50]
    return render(
        request,
        "staff/patient.html",
        {
            "patient": patient,
            "plans": [(plan, _plan_rows(plan)) for plan in plans],
            "appointments": appointments,
            "answers": patient.screening_answers.select_related("rule"),
            "audit": _labelled(
                AuditEntry.objects.filter(patient=patient).select_related(
                    "actor", "appointment__treatment"
                )[:100]
            ),
            "zone": _zone_for(patient),
            "notifications": notifications,
            "bounces": patient.bounced_emails.all()[:1],
            "waitlist": patient.waitlist_entries.select_related(
                "treatment", "location", "provider"
            ),
        },
    )


@never_cache  # health data: no browser or proxy may keep a copy
@front_desk_required
def patient_edit(request, pk: int):
    patient = get_object_or_404(Patient, pk=pk)
    before = services.snapshot(patient, PATIENT_AUDIT_FIELDS)
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.save_patient(
                form.save(commit=False), before=before, actor=request.user, now=_now()
            )
        except services.EmailInUse as refused:
            form.add_error("email", refused.message)
        else:
            messages.success(request, _("Saved.") if changes else _("Nothing changed."))
            return redirect("desk:patient", pk=patient.pk)
    return render(
        request,
        "staff/patient_edit.html",
        {"patient": patient, "form": form},
        status=400 if form.errors else 200,
    )


def _zone_for(patient: Patient) -> str:
    """The time zone to show a patient's record in: where they were last seen."""
    latest = patient.appointments.select_related("location").order_by("-start").first()
    if latest is not None:
        return latest.location.time_zone
    return Location.objects.values_list("time_zone", flat=True).first() or "UTC"
