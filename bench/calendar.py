"""How fast is the front desk's day view on a busy clinic?

Seeds one location with 20 aestheticians (each with two rooms) and 200 appointments on one
day, plus 50,000 patients, then renders /staff/calendar/ for that day (one column per
aesthetician, and one per room) and prints median and p95 server time and queries per request.
It also times a patient search and prints its query plan. Targets (issue 16, medians): the day
view by room <= 40 ms, a patient search by name <= 20 ms with the trigram index used.

Run: make bench   (or: .venv/bin/python -m bench.calendar [--runs 30]; as a module, so that
this file does not shadow the standard library's calendar module)
"""

import argparse
import os
import statistics
import time
from datetime import datetime, timedelta
from datetime import time as clock

from bench._setup import django_on_bench_database, percentile

os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/skinclinic_bench_calendar"
)

PROVIDERS, PER_PROVIDER, PATIENTS = 20, 10, 50_000


def seed(day):
    from django.contrib.auth.models import Group, User

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
    location = Location.objects.create(name="Buckhead", slug="buckhead")
    patients = Patient.objects.bulk_create(
        (
            Patient(
                first_name=f"Patient{i}",
                last_name=f"Family{i % 997}",
                email=f"patient{i}@example.com",
                phone=f"+1404{200 + i // 10000:03d}{i % 10000:04d}",  # valid E.164
            )
            for i in range(PATIENTS)
        ),
        batch_size=5000,
    )
    appointments = []
    for index in range(PROVIDERS):
        user = User.objects.create(username=f"aesthetician{index}")
        provider = Provider.objects.create(user=user, display_name=f"Aesthetician {index:02d}")
        provider.treatments.add(treatment)
        provider.locations.add(location)
        WorkingHours.objects.create(
            provider=provider,
            location=location,
            weekday=day.weekday(),
            start_time=clock(7),
            end_time=clock(21),
        )
        rooms = [Room.objects.create(location=location, name=f"Room {index}{s}") for s in "ab"]
        for room in rooms:
            room.treatments.add(treatment)
        for n in range(PER_PROVIDER):
            appointment = Appointment(
                patient=patients[(index * PER_PROVIDER + n) * 7],
                treatment=treatment,
                location=location,
                provider=provider,
                room=rooms[n % 2],
            )
            start = datetime.combine(day, clock(7), tzinfo=location.zone)
            appointment.set_times(start + timedelta(minutes=75 * n))
            appointments.append(appointment)
    Appointment.objects.bulk_create(appointments)
    desk = User.objects.create(username="desk")
    desk.groups.add(Group.objects.get_or_create(name="Front desk")[0])
    return location, desk


def measure(client, url, runs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, cpu, queries = [], [], []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            began, began_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            timings.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)
        assert response.status_code == 200, response.status_code
        queries.append(len(captured.captured_queries))
    return timings, cpu, max(queries)


def verify_second_step(client, user) -> None:
    """Staff pages need the two-step code: mark the session verified with a real device, as
    the code page does (django_otp.login)."""
    import django_otp
    from django.http import HttpRequest
    from django_otp.plugins.otp_totp.models import TOTPDevice

    request = HttpRequest()
    request.session = client.session
    request.user = user
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    django_otp.login(request, device)
    request.session.save()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    django_on_bench_database()
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from booking.models import Appointment

    day = (timezone.now() + timedelta(days=1)).date()
    location, desk = seed(day)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"seeded {PROVIDERS} aestheticians, {Appointment.objects.count()} appointments on {day}, "
        f"{PATIENTS} patients"
    )
    client = Client()
    client.force_login(desk)
    verify_second_step(client, desk)
    base = f"/staff/calendar/?location={location.slug}&date={day}"
    cases = [
        ("day view, one column per aesthetician", base, None),
        ("day view, one column per room", base + "&by=room", 40),
        ("patient search 'family42'", "/staff/patients/?q=family42", 20),
        ("patient search '555 0123'", "/staff/patients/?q=555+0123", 20),
    ]
    for label, url, target in cases:
        client.get(url)  # warm up
        timings, cpu, queries = measure(client, url, args.runs)
        median = statistics.median(timings)
        verdict = ""
        if target is not None:
            verdict = f" (target <= {target} ms: {'met' if median <= target else 'MISSED'})"
        print(
            f"{label}: median {median:.1f} ms{verdict}, "
            f"p95 {percentile(timings, 0.95):.1f} ms, web process CPU median "
            f"{statistics.median(cpu):.1f} ms, {queries} queries ({args.runs} runs)"
        )

    from desk.views.patients import SEARCH_LIMIT, search_patients

    print("plan of the search for 'family42':")
    plan = search_patients("family42")[: SEARCH_LIMIT + 1].explain(analyze=True)
    print("  " + plan.replace("\n", "\n  "))


if __name__ == "__main__":
    main()
