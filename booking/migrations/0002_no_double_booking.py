"""No two active appointments may hold one aesthetician or one room at the same time.

PostgreSQL decides with exclusion constraints over tstzrange (btree_gist lets the equality on
provider_id/room_id share the GiST index). On SQLite, the embedded default, bookings are
serialised by taking the write lock when each transaction begins (see settings), so this
migration does nothing there.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

ACTIVE = "('booked', 'confirmed', 'checked_in')"

CONSTRAINTS = {
    "appointment_provider_no_overlap": (
        f"EXCLUDE USING gist (provider_id WITH =, "
        f"tstzrange(provider_start, held_until, '[)') WITH &&) WHERE (status IN {ACTIVE})"
    ),
    "appointment_room_no_overlap": (
        f"EXCLUDE USING gist (room_id WITH =, "
        f"tstzrange(start, held_until, '[)') WITH &&) WHERE (status IN {ACTIVE})"
    ),
}


def add_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in CONSTRAINTS.items():
        schema_editor.execute(f"ALTER TABLE booking_appointment ADD CONSTRAINT {name} {definition}")


def drop_constraints(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE booking_appointment DROP CONSTRAINT {name}")


class Migration(migrations.Migration):
    dependencies = [("booking", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(add_constraints, drop_constraints),
    ]
