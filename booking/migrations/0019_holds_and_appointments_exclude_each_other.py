"""A live hold and an active appointment never keep one aesthetician or one room at once.

Holds exclude holds (0017) and appointments exclude appointments (0002), but the two sit in
different tables, so one exclusion constraint cannot cover both. Two BEFORE triggers do:

- booking_appointment (insert, or an update to an active status / another aesthetician, room
  or time) is refused if a hold not yet expired (expires_at > now()) overlaps it;
- booking_hold (insert or update of a live hold) is refused if an active appointment
  overlaps it.

Same intervals as the exclusion constraints: the aesthetician [provider_start, held_until),
the room [start, held_until), so numbing and cleanup count. Each trigger first takes
transaction-level advisory locks on the aesthetician and then the room (always that order,
so two of them cannot deadlock), then looks at the other table with a fresh snapshot (READ
COMMITTED, a new one per statement): of two transactions racing for one slot, the second
waits for the first to commit and then sees its row. The refusal is SQLSTATE 23P01
(exclusion_violation) naming the rule as its constraint, so booking.services turns it into
SlotTaken like an exclusion constraint's. The patient's own hold is deleted by
booking_from_draft in the booking's transaction before the visit is saved, so it never
blocks its own booking.

PostgreSQL only; on SQLite writes are serialised (settings) and nothing is added.
"""

from django.db import migrations

ACTIVE = "('booked', 'confirmed', 'checked_in')"
# Advisory lock key spaces (the first of the two int4 keys): one for aestheticians, one for rooms.
PROVIDER_LOCK = 18001
ROOM_LOCK = 18002

LOCKS = f"""
    PERFORM pg_advisory_xact_lock({PROVIDER_LOCK}, (NEW.provider_id % 2147483647)::int);
    PERFORM pg_advisory_xact_lock({ROOM_LOCK}, (NEW.room_id % 2147483647)::int);
"""

APPOINTMENT_FUNCTION = f"""
CREATE OR REPLACE FUNCTION booking_appointment_not_held() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    held record;
BEGIN
    IF NEW.status NOT IN {ACTIVE} THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status IN {ACTIVE}
        AND NEW.provider_id = OLD.provider_id AND NEW.room_id = OLD.room_id
        AND NEW.start = OLD.start AND NEW.provider_start = OLD.provider_start
        AND NEW.held_until = OLD.held_until THEN
        RETURN NEW;  -- nothing it holds changed (notes, confirmation, ...)
    END IF;
    {LOCKS}
    SELECT h.id, h.expires_at INTO held FROM booking_hold h
    WHERE h.expires_at > now()
      AND ((h.provider_id = NEW.provider_id
            AND tstzrange(h.provider_start, h.held_until, '[)')
                && tstzrange(NEW.provider_start, NEW.held_until, '[)'))
        OR (h.room_id = NEW.room_id
            AND tstzrange(h.start, h.held_until, '[)')
                && tstzrange(NEW.start, NEW.held_until, '[)')))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'exclusion_violation',
            CONSTRAINT = 'appointment_not_held_online',
            TABLE = 'booking_appointment',
            MESSAGE = 'conflicting key value violates exclusion constraint '
                || '"appointment_not_held_online"',
            DETAIL = format('Hold %s keeps this aesthetician or room until %s.',
                            held.id, held.expires_at);
    END IF;
    RETURN NEW;
END;
$$;
"""  # noqa: S608 - module constants only, no input

HOLD_FUNCTION = f"""
CREATE OR REPLACE FUNCTION booking_hold_not_booked() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    booked bigint;
BEGIN
    IF NEW.expires_at <= now() THEN
        RETURN NEW;
    END IF;
    {LOCKS}
    SELECT a.id INTO booked FROM booking_appointment a
    WHERE a.status IN {ACTIVE}
      AND ((a.provider_id = NEW.provider_id
            AND tstzrange(a.provider_start, a.held_until, '[)')
                && tstzrange(NEW.provider_start, NEW.held_until, '[)'))
        OR (a.room_id = NEW.room_id
            AND tstzrange(a.start, a.held_until, '[)')
                && tstzrange(NEW.start, NEW.held_until, '[)')))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'exclusion_violation',
            CONSTRAINT = 'hold_not_booked',
            TABLE = 'booking_hold',
            MESSAGE = 'conflicting key value violates exclusion constraint "hold_not_booked"',
            DETAIL = format('Appointment %s keeps this aesthetician or room.', booked);
    END IF;
    RETURN NEW;
END;
$$;
"""  # noqa: S608 - module constants only, no input

TRIGGERS = [
    APPOINTMENT_FUNCTION,
    """
    CREATE TRIGGER booking_appointment_not_held
    BEFORE INSERT OR UPDATE OF status, provider_id, room_id, start, provider_start, held_until
    ON booking_appointment
    FOR EACH ROW EXECUTE FUNCTION booking_appointment_not_held();
    """,
    HOLD_FUNCTION,
    """
    CREATE TRIGGER booking_hold_not_booked
    BEFORE INSERT OR UPDATE ON booking_hold
    FOR EACH ROW EXECUTE FUNCTION booking_hold_not_booked();
    """,
]

DROP = [
    "DROP TRIGGER IF EXISTS booking_appointment_not_held ON booking_appointment",
    "DROP FUNCTION IF EXISTS booking_appointment_not_held()",
    "DROP TRIGGER IF EXISTS booking_hold_not_booked ON booking_hold",
    "DROP FUNCTION IF EXISTS booking_hold_not_booked()",
]


def add_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in TRIGGERS:
        schema_editor.execute(statement, None)  # no placeholders: % is SQL here


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in DROP:
        schema_editor.execute(statement, None)  # no placeholders: % is SQL here


class Migration(migrations.Migration):
    dependencies = [("booking", "0018_location_currency")]

    operations = [migrations.RunPython(add_triggers, drop_triggers)]
