"""How fast is the availability API on a busy chain?

Seeds 20 aestheticians at 2 locations with 5,000 appointments over 6 weeks, then calls
GET /api/v1/availability/ for every aesthetician over 6 weeks and for one aesthetician over one
week. Then seeds a chain-sized clinic afresh, 100 aestheticians with 3 visits a day each, and
calls it for everyone over 6 weeks, one slot per aesthetician and grouped by time (?group=time).
Prints median and p95 server time, queries per request and what came back, against the
targets of issue 16 (medians): 20 aestheticians <= 20 ms, one aesthetician for a week <= 5 ms,
100 aestheticians grouped <= 60 ms and ungrouped <= 150 ms, queries the same for every size.

Run: make bench   (or: .venv/bin/python -m bench.availability [--runs 30] [--profile])
"""

import argparse
import random
import statistics
import time
from datetime import datetime, timedelta
from datetime import time as clock

from bench._setup import django_on_bench_database, percentile

PROVIDERS, APPOINTMENTS, WEEKS = 20, 5000, 6
CHAIN_PROVIDERS, CHAIN_VISITS_A_DAY = 100, 3


def seed(start_day, providers=PROVIDERS, appointments_wanted=APPOINTMENTS, per_day=None):
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
        Patient(first_name=f"Patient{i}", last_name="Bench") for i in range(appointments_wanted)
    )
    rng = random.Random(7)
    schedule = []  # (provider, {weekday: (location, room)})
    for index in range(providers):
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
    if per_day is None:
        per_day = -(-appointments_wanted // (providers * len(days)))  # 6 a day fit in 08-20
    for provider, where in schedule:
        for day in days:
            location, room = where[day.weekday()]
            # Up to per_day visits on the 15-minute grid, each held 1h45, never overlapping.
            for quarter in sorted(rng.sample(range(0, 12 * 4 - 7, 7), per_day)):
                if len(appointments) >= appointments_wanted:
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
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would have done on a live database
    return locations, schedule


def measure(client, url, runs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, cpu, queries, size = [], [], [], ""
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            began, began_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            timings.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)
        assert response.status_code == 200, response.content[:300]
        queries.append(len(captured.captured_queries))
    body = response.json()
    if "times" in body:
        pairs = sum(len(t["providers"]) for t in body["times"])
        size = f"{len(body['times'])} times ({pairs} aesthetician-times)"
    else:
        size = f"{len(body['slots'])} slots"
    return timings, cpu, max(queries), size


def run_cases(client, cases, runs, profile=False):
    client.get(cases[0][1])  # warm up connections and caches
    for label, url, target in cases:
        timings, cpu, queries, size = measure(client, url, runs)
        median = statistics.median(timings)
        verdict = "met" if median <= target else "MISSED"
        print(
            f"{label}: median {median:.1f} ms (target <= {target} ms: {verdict}), "
            f"p95 {percentile(timings, 0.95):.1f} ms, web process CPU median "
            f"{statistics.median(cpu):.1f} ms, {queries} queries, {size} ({runs} runs)"
        )
        if profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(runs):
                client.get(url)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--profile", action="store_true", help="cProfile each case too")
    args = parser.parse_args()

    django_on_bench_database()
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from booking.models import Appointment

    first_day = (timezone.now() + timedelta(days=1)).date()
    last_day = first_day + timedelta(days=WEEKS * 7 - 1)
    locations, schedule = seed(first_day)
    print(
        f"seeded {len(schedule)} aestheticians, {Appointment.objects.count()} appointments, "
        f"{first_day} to {last_day}"
    )
    client = Client()
    base = f"/api/v1/availability/?treatment=microneedling&location={locations[0].slug}"
    everyone = f"{base}&start={first_day}&end={last_day}"
    run_cases(
        client,
        [
            (f"all {PROVIDERS} aestheticians at {locations[0].slug}, {WEEKS} weeks", everyone, 20),
            ("  the same grouped by time", f"{everyone}&group=time", 20),
            (
                "one aesthetician, 1 week",
                f"{base}&start={first_day}&end={first_day + timedelta(days=6)}"
                f"&provider={schedule[0][0].pk}",
                5,
            ),
        ],
        args.runs,
        args.profile,
    )

    call_command("flush", interactive=False, verbosity=0)
    visits = CHAIN_PROVIDERS * WEEKS * 7 * CHAIN_VISITS_A_DAY
    locations, schedule = seed(
        first_day, CHAIN_PROVIDERS, appointments_wanted=visits, per_day=CHAIN_VISITS_A_DAY
    )
    print(
        f"seeded {len(schedule)} aestheticians, {Appointment.objects.count()} appointments "
        f"({CHAIN_VISITS_A_DAY} a day each), {first_day} to {last_day}"
    )
    everyone = f"{base}&start={first_day}&end={last_day}"
    run_cases(
        client,
        [
            (
                f"all {CHAIN_PROVIDERS} aestheticians, {WEEKS} weeks, by time",
                f"{everyone}&group=time",
                60,
            ),
            (
                f"all {CHAIN_PROVIDERS} aestheticians, {WEEKS} weeks, per aesthetician",
                everyone,
                150,
            ),
        ],
        max(5, args.runs // 3),
        args.profile,
    )


if __name__ == "__main__":
    main()
