"""Can two patients ever get the same aesthetician or room? Race them over HTTP and see.

Sets up a bench database of its own (one location, one aesthetician, one room, a four-hour
facial bookable every 5 minutes, 50 patients and a front desk with API tokens), starts gunicorn
(skinclinic/gunicorn.conf.py's workers, 4 threads each) on an ephemeral 127.0.0.1 port, and
fires four rounds of 50 requests at once:

1. 50 patients book the same time;
2. 50 patients book 50 different times 5 minutes apart, all overlapping one another;
3. the front desk moves 50 other visits onto one free time;
4. 25 patients book a free time while the front desk moves 25 visits onto it.

Each round must end with exactly one 201/200, the rest 409 and no 5xx; afterwards a self-join
over the appointments (same aesthetician or room, tstzrange &&) must find no overlap.
Exits 1 if any of that fails.

Run: make bench-double-booking   (or: .venv/bin/python -m bench.double_booking)
"""

import asyncio
import json
import os
import sys
from collections import Counter
from datetime import datetime, timedelta
from datetime import time as clock

from bench._server import Gunicorn, http, server_env
from bench._setup import django_on_bench_database

os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/skinclinic_bench_double"
)
RACERS = 50

OVERLAPS = """
SELECT a.id, b.id
FROM booking_appointment a
JOIN booking_appointment b ON a.id < b.id
WHERE a.status IN %(active)s AND b.status IN %(active)s
  AND (
    (a.provider_id = b.provider_id
     AND tstzrange(a.provider_start, a.held_until) && tstzrange(b.provider_start, b.held_until))
    OR (a.room_id = b.room_id
     AND tstzrange(a.start, a.held_until) && tstzrange(b.start, b.held_until))
  )
"""


def seed(first_day):
    """A clinic where any two visits less than 4h45 apart collide, and who will race."""
    from django.contrib.auth.models import Group, User
    from django.utils import timezone
    from knox.models import AuthToken

    from booking import services
    from booking.models import Location, Patient, Provider, Room, WorkingHours
    from treatments.models import Treatment

    location = Location.objects.create(
        name="Bench", slug="bench", min_notice_minutes=0, slot_step_minutes=5
    )
    treatment = Treatment.objects.create(
        name="Long facial",
        slug="long-facial",
        duration_minutes=240,
        numbing_minutes=30,
        cleanup_minutes=15,
    )
    user = User.objects.create(username="aesthetician")
    provider = Provider.objects.create(user=user, display_name="The aesthetician")
    provider.locations.add(location)
    provider.treatments.add(treatment)
    WorkingHours.objects.bulk_create(
        WorkingHours(
            provider=provider, location=location, weekday=d, start_time=clock(6), end_time=clock(22)
        )
        for d in range(7)
    )
    Room.objects.create(location=location, name="Room 1").treatments.add(treatment)

    desk = User.objects.create(username="desk")
    desk.groups.add(Group.objects.get_or_create(name="Front desk")[0])
    patients = []
    for index in range(RACERS):
        user = User.objects.create(username=f"patient{index}")
        patients.append(
            Patient.objects.create(user=user, first_name=f"Patient{index}", last_name="Racer")
        )
    tokens = [AuthToken.objects.create(user=p.user)[1] for p in patients]
    # Visits to move in rounds 3 and 4: one a day, from two weeks out.
    visits = [
        services.book_appointment(
            patient=patient,
            treatment=treatment,
            location=location,
            start=datetime.combine(first_day + timedelta(days=14 + i), clock(7), location.zone),
            now=timezone.now(),
            provider=provider,
            staff=True,
        ).pk
        for i, patient in enumerate(patients)
    ]
    return location, AuthToken.objects.create(user=desk)[1], tokens, visits


def book(token: str, start: datetime):
    body = {"treatment": "long-facial", "location": "bench", "start": start.isoformat()}
    return "POST", "/api/v1/appointments/", token, body


def move(token: str, visit: int, start: datetime):
    return "POST", f"/api/v1/appointments/{visit}/reschedule/", token, {"start": start.isoformat()}


async def race(port: int, calls) -> list[tuple[int, bytes]]:
    async def send(method, path, token, body):
        return await http(
            port,
            method,
            path,
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
            body=json.dumps(body).encode(),
        )

    return await asyncio.gather(*(send(*call) for call in calls))


def verdict(label: str, answers: list[tuple[int, bytes]]) -> bool:
    statuses = Counter(status for status, _ in answers)
    winners = statuses[201] + statuses[200]
    ok = winners == 1 and statuses[409] == len(answers) - 1
    shown = ", ".join(f"{count} x {status}" for status, count in sorted(statuses.items()))
    print(f"{'ok  ' if ok else 'FAIL'} {label}: {shown}")
    if not ok:
        for status, body in answers:
            if status not in (200, 201, 409):
                print(f"     {status}: {body[:200].decode(errors='replace')}")
                break
    return ok


def main():
    django_on_bench_database()
    from django.db import connection
    from django.utils import timezone

    from booking.models import ACTIVE_STATUSES, Appointment

    first_day = (timezone.now() + timedelta(days=2)).date()
    location, desk, tokens, visits = seed(first_day)
    database_url = os.environ["DATABASE_URL"]
    connection.close()

    def at(days: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(
            first_day + timedelta(days=days), clock(hour, minute), location.zone
        )

    rounds = [
        ("50 bookings of one time", [book(t, at(0, 8)) for t in tokens]),
        (
            "50 bookings at 50 overlapping times",
            [book(t, at(1, 8) + timedelta(minutes=5 * i)) for i, t in enumerate(tokens)],
        ),
        ("50 front-desk moves onto one time", [move(desk, v, at(2, 8)) for v in visits]),
        (
            "25 bookings and 25 moves onto one time",
            [
                book(t, at(3, 8)) if i % 2 else move(desk, visits[i], at(3, 8))
                for i, t in enumerate(tokens)
            ],
        ),
    ]
    passed, created = True, 0
    with Gunicorn(server_env(DATABASE_URL=database_url, REDIS_URL=""), threads=4) as web:
        print(f"gunicorn on 127.0.0.1:{web.port}, {os.cpu_count()} cores, 4 threads per worker")
        for label, calls in rounds:
            answers = asyncio.run(race(web.port, calls))
            passed &= verdict(label, answers)
            created += sum(status == 201 for status, _ in answers)

    with connection.cursor() as cursor:
        cursor.execute(OVERLAPS, {"active": tuple(ACTIVE_STATUSES)})
        overlaps = cursor.fetchall()
    active = Appointment.objects.active().count()
    print(f"{'ok  ' if not overlaps else 'FAIL'} overlap query: {len(overlaps)} rows")
    print(f"     {active} active appointments: {RACERS} moved or not, {created} booked")
    passed &= not overlaps and active == RACERS + created
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
