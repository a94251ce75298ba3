"""How fast is the availability API on a busy chain?

Seeds 20 aestheticians at 2 locations with 5,000 appointments over 6 weeks, then calls
GET /api/v1/availability/ for every aesthetician over 6 weeks and for one aesthetician over one
week, and prints median and p95 server time, queries per request and slots returned.
Goal: all aestheticians over 6 weeks at a median under 100 ms with at most 10 queries.

Run: make bench   (or: .venv/bin/python -m bench.availability [--runs 30])
"""

import argparse
import random
import statistics
import time
from datetime import datetime, timedelta
from datetime import time as clock

from bench._setup import django_on_bench_database, percentile

PROVIDERS, APPOINTMENTS, WEEKS = 20, 5000, 6


def seed(start_day):
    from django.contrib.auth.models import User

    from booking.models import Appointment, Location, Patient, Provider, Room, WorkingHours
    from treatments.models import Protocol, Treatment

    treatment = Treatment.objects.create(
        name="Microneedling",
        slug="microneedling",
        duration_minutes=60,
        numbing_minutes=30,
        cleanup_minutes=15,
    )
    Protocol.objects.create(treatment=treatment, maintenance_offsets_months=[6, 12])
    locations = [
        Location.objects.create(name=name, slug=name.lower(), time_zone="America/New_York")
        for name in ("Buckhead", "Midtown")
    ]
    # A patient per visit: one person is never at two visits at once (the database refuses it).
    patients = Patient.objects.bulk_create(
        Patient(first_name=f"Patient{i}", last_name="Bench") for i in range(APPOINTMENTS)
    )
    rng = random.Random(7)
    schedule = []  # (provider, {weekday: (location, room)})
    for index in range(PROVIDERS):
        user = User.objects.create(username=f"aesthetician{index}")
        provider = Provider.objects.create(user=user, display_name=f"Aesthetician {index}")
        provider.treatments.add(treatment)
        # Every aesthetician works every day, alternating between the two locations, 08-20.
        where = {}
        for offset, location in enumerate(locations):
            provider.locations.add(location)
            room = Room.objects.create(location=location, name=f"Room {index}")
            room.treatments.add(treatment)
            for day in range((index + offset) % 2, 7, 2):
                WorkingHours.objects.create(
                    provider=provider,
                    location=location,
                    weekday=day,
                    start_time=clock(8),
                    end_time=clock(20),
                )
                where[day] = (location, room)
        schedule.append((provider, where))

    appointments = []
    days = [start_day + timedelta(days=d) for d in range(WEEKS * 7)]
    per_day = -(-APPOINTMENTS // (PROVIDERS * len(days)))  # 6 a day fit in 08:00-20:00
    for provider, where in schedule:
        for day in days:
            location, room = where[day.weekday()]
            # Up to per_day visits on the 15-minute grid, each held 1h45, never overlapping.
            for quarter in sorted(rng.sample(range(0, 12 * 4 - 7, 7), per_day)):
                if len(appointments) >= APPOINTMENTS:
                    break
                local = datetime.combine(day, clock(8), tzinfo=location.zone) + timedelta(
                    minutes=15 * quarter
                )
                appointment = Appointment(
                    patient=patients[len(appointments)],
                    treatment=treatment,
                    location=location,
                    provider=provider,
                    room=room,
                )
                appointment.set_times(local)
                appointments.append(appointment)
    Appointment.objects.bulk_create(appointments, batch_size=1000)
    return locations, schedule


def measure(client, url, runs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, queries, slots = [], [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.content[:300]
        queries.append(len(captured.captured_queries))
        slots = len(response.json()["slots"])
    return timings, max(queries), slots


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    django_on_bench_database()
    from django.test import Client
    from django.utils import timezone

    from booking.models import Appointment

    first_day = (timezone.now() + timedelta(days=1)).date()
    locations, schedule = seed(first_day)
    last_day = first_day + timedelta(days=WEEKS * 7 - 1)
    print(
        f"seeded {len(schedule)} aestheticians, {Appointment.objects.count()} appointments, "
        f"{first_day} to {last_day}"
    )

    client = Client()
    base = f"/api/v1/availability/?treatment=microneedling&location={locations[0].slug}"
    cases = [
        (
            f"all aestheticians at {locations[0].slug}, {WEEKS} weeks",
            f"{base}&start={first_day}&end={last_day}",
        ),
        (
            "one aesthetician, 1 week",
            f"{base}&start={first_day}&end={first_day + timedelta(days=6)}"
            f"&provider={schedule[0][0].pk}",
        ),
    ]
    client.get(cases[0][1])  # warm up connections and caches
    for label, url in cases:
        timings, queries, slots = measure(client, url, args.runs)
        print(
            f"{label}: median {statistics.median(timings):.1f} ms, "
            f"p95 {percentile(timings, 0.95):.1f} ms, {queries} queries, {slots} slots "
            f"({args.runs} runs)"
        )


if __name__ == "__main__":
    main()
