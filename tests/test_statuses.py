"""The active statuses are defined once (booking.models.ACTIVE_STATUSES); the database's
exclusion constraints repeat them in SQL, so this reads the constraints back and compares."""

import re

import pytest
from django.db import connection

from booking.models import ACTIVE_STATUSES, PLACED_STATUSES, Appointment

CONSTRAINTS = (
    "appointment_provider_no_overlap",
    "appointment_room_no_overlap",
    "appointment_patient_no_overlap",
)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="exclusion constraints")
@pytest.mark.parametrize("name", CONSTRAINTS)
def test_each_no_overlap_constraint_holds_exactly_the_active_statuses(name):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s", [name]
        )
        (definition,) = cursor.fetchone()
    predicate = definition.split(" WHERE ", 1)[1]
    assert "status" in predicate, definition
    statuses = set(re.findall(r"'(\w+)'", predicate))
    assert statuses == {str(s) for s in ACTIVE_STATUSES}


def test_a_visit_is_active_exactly_when_its_status_holds_time():
    for status in Appointment.Status:
        assert Appointment(status=status).is_active == (status in ACTIVE_STATUSES)
    assert set(PLACED_STATUSES) == {*ACTIVE_STATUSES, Appointment.Status.COMPLETED}
