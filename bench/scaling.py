"""What does availability cost as a clinic grows? The cost curves of docs/scaling.md.

Three curves, each varying one thing and keeping the rest at the issue-16 shape (60-minute
treatment with 30 min numbing and 15 min cleanup, 3 visits a day per aesthetician, the API's
GET /api/v1/availability/ for everyone at one location):

- aestheticians: 5, 20, 50, 100 over 6 weeks, grouped by time and per aesthetician;
- days asked for: 7, 14, 28, 42 with 20 aestheticians;
- history: 0, 1 and 2 years of completed visits behind 20 aestheticians, 6 weeks asked for.

Prints a Markdown table (median ms, queries) and writes an SVG chart of the first curve to
docs/scaling-aestheticians.svg. Concurrent clients are `bench.load --clients 1,4,16,64`.

Run: .venv/bin/python -m bench.scaling [--runs 15] [--svg docs/scaling-aestheticians.svg]
"""

import argparse
import os
import statistics
from datetime import datetime, timedelta
from pathlib import Path

from bench import availability as shape
from bench._setup import django_on_bench_database

os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/skinclinic_bench_scaling"
)
VISITS_A_DAY = 3


def seed(first_day, providers: int):
    visits = providers * shape.WEEKS * 7 * VISITS_A_DAY
    return shape.seed(first_day, providers, appointments_wanted=visits, per_day=VISITS_A_DAY)


def add_history(first_day, years: int) -> int:
    """Completed visits in the `years` before first_day: 3 a day for every aesthetician, each
    in the room and location of that weekday, each with a patient of its own that day."""
    from booking.models import Appointment, Patient, Provider, Room

    template = Appointment.objects.first()
    rooms = {(room.location_id, room.name): room for room in Room.objects.all()}
    providers = list(Provider.objects.prefetch_related("working_hours__location"))
    per_day = len(providers) * VISITS_A_DAY
    patients = Patient.objects.bulk_create(
        Patient(first_name=f"H{i}", last_name="Past") for i in range(per_day)
    )
    rows = []
    for back in range(1, 365 * years + 1):
        day = first_day - timedelta(days=back)
        for index, provider in enumerate(providers):
            hours = [h for h in provider.working_hours.all() if h.weekday == day.weekday()]
            if not hours:
                continue
            location = hours[0].location
            room = rooms[(location.pk, f"Room {index}")]
            opening = datetime.combine(day, hours[0].start_time, tzinfo=location.zone)
            for visit in range(VISITS_A_DAY):
                appointment = Appointment(
                    patient=patients[index * VISITS_A_DAY + visit],
                    treatment=template.treatment,
                    location=location,
                    provider=provider,
                    room=room,
                    status=Appointment.Status.COMPLETED,
                )
                appointment.set_times(opening + timedelta(hours=2 * visit))
                rows.append(appointment)
    Appointment.objects.bulk_create(rows, batch_size=5000)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return len(rows)


def median_of(client, url: str, runs: int) -> tuple[float, int]:
    timings, _cpu, queries, _size = shape.measure(client, url, runs)
    return statistics.median(timings), queries


def svg(points: dict[str, list[tuple[int, float]]], path: Path) -> None:
    """A small line chart: x aestheticians, y median ms, one line per series."""
    width, height, pad = 560, 320, 50
    xs = [x for series in points.values() for x, _ in series]
    ys = [y for series in points.values() for _, y in series]
    x_max, y_max = max(xs), max(ys) * 1.1

    def place(x, y):
        return pad + (width - 2 * pad) * x / x_max, height - pad - (height - 2 * pad) * y / y_max

    colours = ["#2b6cb0", "#c05621", "#2f855a"]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        "<title>Availability API median time by aestheticians at one location</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        'stroke="#333"/>',
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#333"/>',
        f'<text x="{width / 2}" y="{height - 12}" text-anchor="middle">'
        "aestheticians (6 weeks, 3 visits a day each)</text>",
        f'<text x="14" y="{height / 2}" transform="rotate(-90 14 {height / 2})" '
        'text-anchor="middle">median ms</text>',
    ]
    for tick in range(0, int(y_max) + 1, max(1, int(y_max / 5) // 10 * 10 or 10)):
        _, y = place(0, tick)
        parts.append(f'<text x="{pad - 6}" y="{y + 4}" text-anchor="end">{tick}</text>')
        parts.append(f'<line x1="{pad}" y1="{y}" x2="{width - pad}" y2="{y}" stroke="#eee"/>')
    for x in sorted(set(xs)):
        px, _ = place(x, 0)
        parts.append(f'<text x="{px}" y="{height - pad + 16}" text-anchor="middle">{x}</text>')
    for series, colour in zip(points.values(), colours, strict=False):
        line = " ".join(f"{px:.1f},{py:.1f}" for px, py in (place(x, y) for x, y in series))
        parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in series:
            px, py = place(x, y)
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>')
    for row, ((label, _), colour) in enumerate(zip(points.items(), colours, strict=False)):
        y = pad + 16 * row
        parts.append(
            f'<line x1="{pad + 12}" y1="{y}" x2="{pad + 32}" y2="{y}" stroke="{colour}" '
            'stroke-width="2"/>'
        )
        parts.append(f'<text x="{pad + 38}" y="{y + 4}" fill="{colour}">{label}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--svg", default="docs/scaling-aestheticians.svg")
    args = parser.parse_args()

    django_on_bench_database()
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    client = Client()
    first_day = (timezone.now() + timedelta(days=1)).date()
    last_day = first_day + timedelta(days=shape.WEEKS * 7 - 1)

    def url(location, days=shape.WEEKS * 7, group=""):
        end = first_day + timedelta(days=days - 1)
        tail = f"&group={group}" if group else ""
        return (
            f"/api/v1/availability/?treatment=microneedling&location={location.slug}"
            f"&start={first_day}&end={end}{tail}"
        )

    print("| curve | size | by time: median ms | per aesthetician: median ms | queries |")
    print("| --- | --- | --- | --- | --- |")
    chart: dict[str, list[tuple[int, float]]] = {"by time": [], "per aesthetician": []}
    for providers in (5, 20, 50, 100):
        call_command("flush", interactive=False, verbosity=0)
        locations, _ = seed(first_day, providers)
        client.get(url(locations[0]))
        grouped, queries = median_of(client, url(locations[0], group="time"), args.runs)
        flat, _ = median_of(client, url(locations[0]), args.runs)
        chart["by time"].append((providers, grouped))
        chart["per aesthetician"].append((providers, flat))
        print(f"| aestheticians | {providers} | {grouped:.1f} | {flat:.1f} | {queries} |")

    call_command("flush", interactive=False, verbosity=0)
    locations, _ = seed(first_day, 20)
    for days in (7, 14, 28, 42):
        grouped, queries = median_of(client, url(locations[0], days, "time"), args.runs)
        flat, _ = median_of(client, url(locations[0], days), args.runs)
        print(
            f"| days asked (20 aestheticians) | {days} | {grouped:.1f} | {flat:.1f} | {queries} |"
        )

    added = 0
    for years in (1, 2):
        added += add_history(first_day - timedelta(days=365 * (years - 1)), 1)
        grouped, queries = median_of(client, url(locations[0], group="time"), args.runs)
        flat, _ = median_of(client, url(locations[0]), args.runs)
        print(
            f"| history (20 aestheticians) | {years} year(s), {added} past visits | "
            f"{grouped:.1f} | {flat:.1f} | {queries} |"
        )
    svg(chart, Path(args.svg))
    print(f"chart: {args.svg} (aestheticians {first_day} to {last_day})")


if __name__ == "__main__":
    main()
