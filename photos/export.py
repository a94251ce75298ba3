"""A patient's whole record as one zip, for a records request: visits, charts (corrections
and the entries they replaced included), signed consent forms as PDF, and every photo at full
size. Audited: an AuditEntry on the patient and a PhotoView ("export") per photo.

Layout of the zip:
    README.txt                 what is inside, for whoever receives it
    record.json                patient details, visits and charts
    consents/<name>.pdf        signed forms, from consent.services.signed_forms_for(patient)
    photos/<date>_<zone>_<kind>_<id>.jpg
"""

import json
import tempfile
import zipfile
from datetime import datetime
from typing import IO, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from booking.models import Patient
from booking.services.audit import Actor, audit, signed_in_or_none
from charts.models import TreatmentChart
from consent import services as consent_services
from photos.models import Photo, PhotoView, photo_storage

__all__ = ["consent_forms", "export_record"]


def consent_forms(patient: Patient) -> list[tuple[str, bytes]]:
    """(file name, PDF bytes) of the patient's signed consent forms."""
    forms = []
    for signature in consent_services.signed_forms_for(patient):
        with signature.pdf.open("rb") as pdf:
            forms.append((f"consent-{signature.pk}.pdf", pdf.read()))
    return forms


def _record(patient: Patient) -> dict[str, Any]:
    visits = patient.appointments.select_related(
        "treatment", "location", "provider", "plan"
    ).order_by("start")
    charts = (
        TreatmentChart.objects.filter(appointment__patient=patient)
        .select_related("appointment", "recorded_by")
        .prefetch_related("zones")
        .order_by("appointment__start", "recorded_at")
    )
    return {
        "patient": {
            "id": patient.pk,
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "email": patient.email,
            "phone": str(patient.phone or ""),
        },
        "visits": [
            {
                "id": visit.pk,
                "start": visit.local_start.isoformat(),
                "treatment": visit.treatment.name,
                "location": visit.location.name,
                "aesthetician": visit.provider.display_name,
                "status": visit.status,
                "kind": visit.kind,
                "plan": visit.plan_id,
                "session": visit.session_number,
            }
            for visit in visits
        ],
        "charts": [
            {
                "id": chart.pk,
                "visit": chart.appointment_id,
                "recorded_at": chart.recorded_at,
                "recorded_by": str(chart.recorded_by or ""),
                "numbing_agent": chart.numbing_agent,
                "numbing_applied_at": chart.numbing_applied_at,
                "device": chart.device,
                "cartridge_lot": chart.cartridge_lot,
                "skin_response": chart.get_skin_response_display(),
                "aftercare_given": chart.aftercare_given,
                "notes": chart.notes,
                "corrects": chart.corrects_id,
                "correction_reason": chart.correction_reason,
                "superseded_at": chart.superseded_at,
                "zones": [
                    {"zone": z.zone, "depth_mm": z.depth_mm, "reason": z.outside_bounds_reason}
                    for z in chart.zones.all()
                ],
            }
            for chart in charts
        ],
    }


README = """Clinical record of patient {id}, exported {at:%Y-%m-%d %H:%M} UTC.

record.json   details, visits (local times of each location) and treatment charts
consents/     signed consent forms ({consents})
photos/       before/after photos ({photos}), re-encoded JPEGs without camera metadata
"""


def export_record(*, patient: Patient, actor: Actor, now: datetime) -> IO[bytes]:
    """Write the zip to a temporary file and return it, rewound. One audit entry and one
    PhotoView per photo, in one transaction with the reads."""
    out = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115 (returned open)
    storage = photo_storage()
    with transaction.atomic():
        photos = list(
            Photo.objects.filter(patient=patient)
            .select_related("appointment__location")
            .order_by("appointment__start", "id")
        )
        forms = consent_forms(patient)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(
                "README.txt",
                README.format(id=patient.pk, at=now, consents=len(forms), photos=len(photos)),
            )
            archive.writestr(
                "record.json",
                json.dumps(_record(patient), cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
            )
            for name, pdf in forms:
                archive.writestr(f"consents/{name}", pdf)
            for photo in photos:
                day = photo.appointment.local_start.date().isoformat()
                with storage.open(photo.original.name, "rb") as image:
                    archive.writestr(
                        f"photos/{day}_{photo.zone}_{photo.kind}_{photo.pk}.jpg", image.read()
                    )
        viewer = signed_in_or_none(actor)
        PhotoView.objects.bulk_create(
            PhotoView(photo=photo, viewer=viewer, variant=PhotoView.Variant.EXPORT, at=now)
            for photo in photos
        )
        audit(
            actor=actor,
            action="record_exported",
            patient=patient,
            changes={"export": [None, f"{len(photos)} photos, {len(forms)} consent forms"]},
            now=now,
        )
    out.seek(0)
    return out
