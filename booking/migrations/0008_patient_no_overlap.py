"""One patient never holds two overlapping active visits (09:00 at one clinic and 09:00 at
another, or two "Confirm" clicks racing each other).

Like 0002, a PostgreSQL exclusion constraint over tstzrange decides; the visit's own span
[start, end) counts (the cleanup after it is the room's, not the patient's). On SQLite the
services check inside a transaction that holds the write lock. ACTIVE below must equal
booking.models.ACTIVE_STATUSES: tests/test_statuses.py reads the constraint back to check.
"""

from django.db import migrations

ACTIVE = "('booked', 'confirmed', 'checked_in')"
NAME = "appointment_patient_no_overlap"
DEFINITION = (
    f"EXCLUDE USING gist (patient_id WITH =, tstzrange(start, \"end\", '[)') WITH &&) "
    f"WHERE (status IN {ACTIVE})"
)


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE booking_appointment ADD CONSTRAINT {NAME} {DEFINITION}")


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE booking_appointment DROP CONSTRAINT {NAME}")


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0007_outbox_moves_to_notifications"),
    ]

    operations = [migrations.RunPython(add_constraint, drop_constraint)]
