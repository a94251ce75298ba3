"""Every stored phone number rewritten in E.164 (+14045550100), so an SMS reply from
+34 612 345 678 finds the patient stored as 612 345 678.

Each location first gets its country from its time zone (Europe/Madrid: ES), from the tz
database's zone.tab; a zone not listed there keeps US. A patient's number is read in the country
of the location of their latest visit (else of their latest plan, else
settings.PHONENUMBER_DEFAULT_REGION).

A number that cannot be read as a valid one is never lost: it is cleared from the phone
field (0011 lets that field hold only E.164), written at the end of the patient's notes
("Phone on file before E.164, not a valid number: ..."), and recorded in the audit trail as
`phone_unreadable` with the old value, so the front desk can find them
(/admin/booking/auditentry/?action=phone_unreadable) and call or write to fix them. A
location's unreadable number is cleared and audited the same way (reason names the location).
The migration prints the counts. Reversing it leaves the E.164 numbers as they are.
"""

from importlib import resources
from pathlib import Path

import phonenumbers
from django.conf import settings
from django.db import migrations
from django.db.models import OuterRef, Subquery
from django.utils import timezone

UNREADABLE = "phone_unreadable"
NOTE = "Phone on file before E.164, not a valid number: {raw}"


def zone_countries() -> dict[str, str]:
    """IANA zone name -> ISO country code, from zone.tab (the tzdata package, else the OS)."""
    try:
        text = (resources.files("tzdata") / "zoneinfo" / "zone.tab").read_text()
    except (ModuleNotFoundError, FileNotFoundError):
        path = Path("/usr/share/zoneinfo/zone.tab")
        text = path.read_text() if path.exists() else ""
    countries = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, _coordinates, zone, *_ = line.split("\t")
            countries[zone] = code
    return countries


def e164(raw: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def forwards(apps, schema_editor):
    Location = apps.get_model("booking", "Location")
    Patient = apps.get_model("booking", "Patient")
    Appointment = apps.get_model("booking", "Appointment")
    TreatmentPlan = apps.get_model("booking", "TreatmentPlan")
    AuditEntry = apps.get_model("booking", "AuditEntry")
    default = settings.PHONENUMBER_DEFAULT_REGION
    now = timezone.now()
    countries = zone_countries()
    audits = []
    converted = unreadable = 0

    for location in Location.objects.all():
        country = countries.get(location.time_zone, location.country)
        if country not in phonenumbers.SUPPORTED_REGIONS:
            country = default
        raw = location.phone.strip()
        number = e164(raw, country) if raw else ""
        if number is None:
            unreadable += 1
            number = ""
            audits.append(
                AuditEntry(
                    at=now,
                    action=UNREADABLE,
                    reason=f"Location {location.slug}: not a valid phone number; cleared.",
                    changes={"phone": [raw, ""]},
                )
            )
        converted += number != location.phone
        Location.objects.filter(pk=location.pk).update(country=country, phone=number)

    location_country = Location.objects.filter(pk=OuterRef("location_id")).values("country")
    latest_visit = Appointment.objects.filter(patient=OuterRef("pk")).order_by("-start")
    latest_plan = TreatmentPlan.objects.filter(patient=OuterRef("pk")).order_by("-pk")
    patients = (
        Patient.objects.exclude(phone="")
        .annotate(
            visit_country=Subquery(
                latest_visit.annotate(c=Subquery(location_country)).values("c")[:1]
            ),
            plan_country=Subquery(
                latest_plan.annotate(c=Subquery(location_country)).values("c")[:1]
            ),
        )
        .only("pk", "phone", "notes")
    )
    for patient in patients.iterator(chunk_size=2000):
        region = patient.visit_country or patient.plan_country or default
        raw = patient.phone
        number = e164(raw.strip(), region)
        if number is None:
            unreadable += 1
            notes = "\n".join(filter(None, [patient.notes.rstrip(), NOTE.format(raw=raw)]))
            Patient.objects.filter(pk=patient.pk).update(phone="", notes=notes)
            audits.append(
                AuditEntry(
                    at=now,
                    action=UNREADABLE,
                    patient_id=patient.pk,
                    reason="Not a valid phone number: cleared, kept in the notes.",
                    changes={"phone": [raw, ""]},
                )
            )
        elif number != raw:
            converted += 1
            Patient.objects.filter(pk=patient.pk).update(phone=number)
    AuditEntry.objects.bulk_create(audits, batch_size=1000)
    if converted or unreadable:
        print(  # noqa: T201 - the operator running migrate reads this
            f"\n  Phone numbers: {converted} rewritten in E.164, {unreadable} unreadable "
            f"(cleared, kept in notes, audit action {UNREADABLE!r})."
        )


class Migration(migrations.Migration):
    dependencies = [("booking", "0011_location_country")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
