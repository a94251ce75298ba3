"""Load a demo clinic: two Atlanta locations, four aestheticians, five treatments, patients
with courses under way, a busy week from today at both locations (several visits per
aesthetician per day, a cancellation, a consultation), a maintenance visit two days ago that
was a no-show, a waitlist entry, a failed text message, consent forms for microneedling (signed
at check-in for the course under way's session 1) and a photo release, and four sign-in
accounts. The three
staff accounts sign in with a second step: their authenticator is DEMO_TOTP_SECRET (any
authenticator app, or `manage.py demo_code USER`). Visits,
cancellations, statuses and the waitlist go through the booking services with staff rights,
as the front desk would; the failed message is set on its row (see seed_failed_message).

Idempotent: rows are looked up by natural keys (slugs, usernames, emails) and only created
when missing, existing rows are left as they are, and patients who already have appointments
are not booked again. Passwords come from DEMO_PASSWORD, or are generated on the first run.
"""

import io
import os
import random
import secrets
from base64 import b32decode
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from booking import services
from booking.models import (
    Appointment,
    Location,
    Patient,
    Provider,
    Room,
    ScreeningAnswer,
    TimeOff,
    WaitlistEntry,
    WorkingHours,
)
from booking.services import waitlist
from payments.models import Charge, PaymentPolicy
from treatments.models import Protocol, ScreeningRule, Treatment
from treatments.screening import DEFAULT_RULES

from .demo_spanish import SCREENING_ES, TREATMENTS_ES

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)

# The demo staff's authenticator secret (base32, as apps take it): published in README so
# `make run` users can sign in; never use demo data on a real clinic.
DEMO_TOTP_SECRET = "SKINCLINICDEMOSECRETFORMAKERUN23"
DEMO_DEVICE_NAME = "Demo authenticator"

TREATMENTS = [
    {
        "slug": "microneedling",
        "name": "Microneedling",
        "display_order": 1,
        "duration_minutes": 60,
        "numbing_minutes": 30,
        "cleanup_minutes": 15,
        "price": Decimal("350.00"),
        "summary": "Collagen induction therapy for fine lines, acne scars and uneven texture.",
        "description": (
            "Microneedling uses a medical-grade pen with fine, sterile needles to create "
            "thousands of controlled micro-channels in the skin. Your skin answers by making "
            "new collagen and elastin, which softens fine lines, acne scars and enlarged pores "
            "over the following weeks.\n"
            "Results build with each session, which is why we plan it as a course."
        ),
        "what_to_expect": (
            "We cleanse your skin and apply a numbing cream, which takes about 30 minutes to "
            "work. The treatment itself takes around an hour and feels like light sandpaper "
            "moving over the skin. Expect redness like a mild sunburn for 24 to 48 hours, and "
            "some dryness or light flaking for a few days after."
        ),
        "precare": (
            "Stop retinoids, exfoliating acids and scrubs 5 days before your visit. Avoid sun "
            "exposure and self-tanner for a week before. Let us know about any cold sores: "
            "we may suggest antiviral medication before treating around the mouth. Arrive "
            "with clean skin and no makeup if you can."
        ),
        "aftercare": (
            "For the first 24 hours, wash only with lukewarm water and a gentle cleanser, skip "
            "makeup, and avoid sweating, swimming and saunas. Use the hydrating serum and the "
            "mineral sunscreen we give you. Wait 5 days before going back to retinoids or "
            "acids, and wear SPF 30 or higher every day."
        ),
        "protocol": {
            "min_sessions": 3,
            "default_sessions": 3,
            "max_sessions": 5,
            "interval_min_days": 28,
            "interval_max_days": 42,
            "maintenance_offsets_months": [6, 12],
            "needle_depth_min_mm": Decimal("0.5"),
            "needle_depth_max_mm": Decimal("2.5"),
        },
    },
    {
        "slug": "microneedling-prp",
        "name": "Microneedling with PRP",
        "display_order": 2,
        "duration_minutes": 75,
        "numbing_minutes": 30,
        "cleanup_minutes": 20,
        "price": Decimal("650.00"),
        "summary": "Microneedling boosted with platelet-rich plasma from your own blood.",
        "description": (
            "Often called the vampire facial, this treatment pairs microneedling with "
            "platelet-rich plasma (PRP) prepared from a small sample of your own blood. The "
            "growth factors in PRP are applied into the fresh micro-channels to support "
            "healing and collagen production, for deeper scars and more visible texture "
            "change than microneedling alone."
        ),
        "what_to_expect": (
            "We draw a small tube of blood and spin it in a centrifuge while the numbing cream "
            "takes effect. The microneedling and PRP application take about 75 minutes. Your "
            "skin will look flushed for 1 to 3 days; most people are back to normal routines "
            "the next day."
        ),
        "precare": (
            "Drink plenty of water the day before and the day of your visit, and eat a meal "
            "beforehand. Avoid aspirin, ibuprofen, fish oil and alcohol for 3 days before, "
            "as they can increase bruising. Stop retinoids and exfoliating acids 5 days before."
        ),
        "aftercare": (
            "Leave the PRP on your skin for at least 4 hours, then rinse with lukewarm water. "
            "No makeup for 24 hours and no retinoids or acids for 5 days. Avoid heavy exercise "
            "for 48 hours and protect your skin with SPF 30 or higher daily."
        ),
        "protocol": {
            "min_sessions": 3,
            "default_sessions": 3,
            "max_sessions": 4,
            "interval_min_days": 28,
            "interval_max_days": 42,
            "maintenance_offsets_months": [6, 12],
            "needle_depth_min_mm": Decimal("0.5"),
            "needle_depth_max_mm": Decimal("2.0"),
        },
    },
    {
        "slug": "chemical-peel",
        "name": "Chemical Peel",
        "display_order": 3,
        "duration_minutes": 45,
        "numbing_minutes": 0,
        "cleanup_minutes": 10,
        "price": Decimal("175.00"),
        "summary": "Brighter, smoother skin and more even tone with a medical-grade peel.",
        "description": (
            "A chemical peel applies a blend of acids (such as glycolic, lactic or salicylic) "
            "that loosens dull surface cells so fresher skin comes through. We choose the "
            "strength for your skin type and goals, from a gentle brightening peel to a deeper "
            "peel for sun damage, melasma or acne marks."
        ),
        "what_to_expect": (
            "After cleansing, we apply the peel in layers and time it closely; a warm tingling "
            "for a few minutes is normal. Depending on the strength, your skin may feel tight "
            "and peel lightly from day 2 to day 5."
        ),
        "precare": (
            "Stop retinoids and exfoliating products 5 days before. Avoid waxing, laser hair "
            "removal and sunburn in the treated area for a week before your peel."
        ),
        "aftercare": (
            "Let the skin shed on its own: do not pick or peel it. Use a gentle cleanser and a "
            "plain moisturiser, and wear SPF 30 or higher every day. Skip retinoids, acids and "
            "scrubs until the peeling has stopped."
        ),
        "protocol": {
            "min_sessions": 3,
            "default_sessions": 4,
            "max_sessions": 6,
            "interval_min_days": 21,
            "interval_max_days": 35,
            "maintenance_offsets_months": [],
        },
    },
    {
        "slug": "hydrafacial",
        "name": "HydraFacial",
        "display_order": 4,
        "duration_minutes": 60,
        "numbing_minutes": 0,
        "cleanup_minutes": 15,
        "price": Decimal("199.00"),
        "summary": "Deep cleanse, gentle extraction and hydration, with no downtime.",
        "description": (
            "The HydraFacial cleanses, exfoliates and extracts with gentle vortex suction, "
            "then infuses serums with antioxidants, peptides and hyaluronic acid. It suits "
            "every skin type and is a favourite before an event."
        ),
        "what_to_expect": (
            "A relaxing 60 minutes with no needles and no numbing. Your skin will look fresh "
            "and glowing straight away, and you can put makeup on the same day."
        ),
        "precare": (
            "Pause retinoids 2 days before and avoid waxing the face the week of your visit."
        ),
        "aftercare": (
            "Keep your skincare simple for 24 hours: skip retinoids, scrubs and hot yoga. "
            "Wear sunscreen, as always."
        ),
    },
    {
        "slug": "consultation",
        "name": "Skin Consultation",
        "display_order": 5,
        "duration_minutes": 30,
        "numbing_minutes": 0,
        "cleanup_minutes": 0,
        "price": Decimal("0.00"),
        "is_consultation": True,
        "summary": "A free 30-minute skin assessment and a treatment plan made for you.",
        "description": (
            "Meet one of our aestheticians to talk about your skin, your goals and your "
            "medical history. We look at your skin closely, explain which treatments suit "
            "you and how many sessions to expect, and answer every question."
        ),
        "what_to_expect": (
            "A relaxed conversation and a skin assessment under good light. There is no "
            "treatment and no obligation; you leave with a written plan and prices."
        ),
        "precare": "Come with clean skin if you can, and bring a list of the products you use.",
        "aftercare": "Nothing special: book your first session when you are ready.",
    },
]

SCREENED_TREATMENTS = ["microneedling", "microneedling-prp", "chemical-peel"]

LOCATIONS = [
    {
        "slug": "buckhead",
        "name": "Buckhead",
        "time_zone": "America/New_York",
        "address": "3340 Peachtree Rd NE, Suite 210, Atlanta, GA 30326",
        "phone": "+1 404 555 0100",
        "email": "buckhead@skinclinic.example",
        "cancellation_notice_hours": 48,
        # Room -> the treatment slugs it can host; None means every treatment.
        "rooms": {
            "Treatment Room 1": None,
            "Treatment Room 2": None,
            "Treatment Room 3": ["microneedling", "chemical-peel", "hydrafacial", "consultation"],
        },
    },
    {
        "slug": "midtown",
        "name": "Midtown",
        "time_zone": "America/New_York",
        "address": "1100 Peachtree St NE, Suite 400, Atlanta, GA 30309",
        "phone": "+1 404 555 0200",
        "email": "midtown@skinclinic.example",
        "cancellation_notice_hours": 48,
        "rooms": {"Treatment Room 1": None, "Treatment Room 2": None},
    },
]


@dataclass(frozen=True)
class Hours:
    location: str
    weekdays: tuple[int, ...]
    start: time
    end: time


AESTHETICIANS = [
    {
        "username": "aesthetician",
        "first_name": "Olivia",
        "last_name": "Bennett",
        "title": "Lead Medical Aesthetician",
        "bio": "Olivia has ten years of experience in collagen induction and acne scar care.",
        "colour": "#6f42c1",
        "treatments": None,
        "hours": [Hours("buckhead", (MON, TUE, WED, THU, FRI), time(9), time(17))],
    },
    {
        "username": "ana.reyes",
        "first_name": "Ana",
        "last_name": "Reyes",
        "title": "Licensed Aesthetician",
        "bio": "Ana specialises in PRP treatments and skin of colour.",
        "colour": "#d63384",
        "treatments": None,
        "hours": [Hours("buckhead", (TUE, WED, THU, FRI, SAT), time(10), time(18))],
    },
    {
        "username": "grace.kim",
        "first_name": "Grace",
        "last_name": "Kim",
        "title": "Licensed Aesthetician",
        "bio": "Grace loves an early start and a well-planned series of peels.",
        "colour": "#198754",
        "treatments": None,
        "hours": [
            Hours("buckhead", (MON, WED, FRI), time(8), time(14)),
            Hours("midtown", (TUE, THU), time(8), time(14)),
        ],
    },
    {
        "username": "jasmine.carter",
        "first_name": "Jasmine",
        "last_name": "Carter",
        "title": "Aesthetician",
        "bio": "Jasmine looks after our weekend facial and peel patients in Midtown.",
        "colour": "#fd7e14",
        "treatments": ["chemical-peel", "hydrafacial", "consultation"],
        "hours": [Hours("midtown", (THU, FRI, SAT, SUN), time(11), time(19))],
    },
]

# One upcoming day off: who, which weekday, at least how many days from today.
TIME_OFF = {
    "username": "jasmine.carter",
    "weekday": SAT,
    "days_ahead": 8,
    "reason": "Continuing education: advanced chemical peel course",
}


# The busy week: single visits for walk-through patients, several per aesthetician per day at
# both locations, today and the six days after, on top of the courses above. Each
# (aesthetician, day) takes these offsets from the start of their hours, in minutes, with the
# treatments in turn; a time another visit already holds is skipped.
WEEK_OFFSETS_MINUTES = (0, 90, 210, 300)
WEEK_TREATMENTS = ("hydrafacial", "chemical-peel", "consultation", "hydrafacial", "microneedling")
WEEK_FIRST_NAMES = (
    "Ava", "Noah", "Chloe", "Ethan", "Zoe", "Liam", "Grace", "Lucas", "Hannah", "Isaac",
    "Layla", "Owen", "Nora", "Caleb", "Ruby", "Henry", "Stella", "Julian", "Leah", "Miles",
)  # fmt: skip
WEEK_LAST_NAMES = ("Walker", "Nguyen", "Brooks", "Foster", "Hughes", "Price", "Reed", "Ward")


@dataclass(frozen=True)
class Visit:
    """A first visit to book: `sessions` starts a plan, None books a single visit."""

    treatment: str
    location: str
    provider: str  # username
    weekday: int
    start: time
    days_ahead: int
    sessions: int | None = None
    # A course already under way: session 1 was this many days ago, done and charted.
    started_days_ago: int | None = None


@dataclass(frozen=True)
class DemoPatient:
    first_name: str
    last_name: str
    email: str
    phone: str
    date_of_birth: date
    fitzpatrick_type: int
    visit: Visit
    username: str | None = None
    sms_consent: bool = False
    # Screening rule code -> days since it last happened (None: a plain "yes").
    yes_answers: dict[str, int | None] = field(default_factory=dict)


# Consent forms, published as version 1 (the owner edits them in the admin).
CONSENT_FORMS = [
    {
        "treatment": "microneedling",
        "title": "Microneedling consent",
        "body": (
            "Microneedling makes tiny punctures in the skin to prompt collagen production. "
            "Results build over a course of sessions.\n\n"
            "**Expected effects:** redness and tightness for 1-3 days, mild flaking.\n\n"
            "**Rare risks:** infection, pigment changes, scarring, a reaction to the numbing "
            "cream.\n\n"
            "I have told the clinic about my medication, pregnancy, skin conditions and any "
            "history of keloids or cold sores."
        ),
        "checkboxes": (
            "I have read and understood the risks above.\nI will follow the aftercare instructions."
        ),
    },
    {
        "treatment": None,
        "title": "Photo release",
        "body": (
            "Before and after photos are part of your medical record. With your permission we "
            "may also show them, without your name, to other patients and online."
        ),
        "checkboxes": "You may show my photos outside my medical record.",
        "photo_release": True,
    },
]


PATIENTS = [
    DemoPatient(
        "Maya",
        "Thompson",
        "maya.thompson@example.com",
        "+1 404 555 0142",
        date(1988, 4, 12),
        2,
        Visit(
            "microneedling",
            "buckhead",
            "aesthetician",
            TUE,
            time(10),
            3,
            sessions=3,
            started_days_ago=35,
        ),
        username="patient",
        sms_consent=True,
    ),
    DemoPatient(
        "Emily",
        "Chen",
        "emily.chen@example.com",
        "+1 678 555 0187",
        date(1991, 9, 3),
        3,
        Visit("microneedling-prp", "buckhead", "ana.reyes", WED, time(13), 3, sessions=3),
        yes_answers={"isotretinoin": 150},
    ),
    DemoPatient(
        "Sofia",
        "Ramirez",
        "sofia.ramirez@example.com",
        "+1 470 555 0123",
        date(1984, 1, 27),
        3,
        Visit("chemical-peel", "midtown", "grace.kim", THU, time(9), 4, sessions=4),
        sms_consent=True,
    ),
    DemoPatient(
        "Marcus",
        "Johnson",
        "marcus.johnson@example.com",
        "+1 404 555 0168",
        date(1979, 11, 8),
        2,
        Visit("microneedling", "buckhead", "grace.kim", FRI, time(8, 30), 6, sessions=4),
    ),
    DemoPatient(
        "Daniel",
        "Okafor",
        "daniel.okafor@example.com",
        "+1 678 555 0111",
        date(1993, 6, 19),
        5,
        Visit("consultation", "buckhead", "ana.reyes", SAT, time(11), 2),
        yes_answers={"fitzpatrick_iv_vi": None},
    ),
    DemoPatient(
        "Priya",
        "Patel",
        "priya.patel@example.com",
        "+1 470 555 0195",
        date(1996, 2, 14),
        4,
        Visit("hydrafacial", "midtown", "jasmine.carter", SUN, time(14), 5),
        sms_consent=True,
    ),
]

# Models the front desk manages in the admin (view, add, change; deleting stays with owners).
_WORDS = (
    "amber aloe basil birch cedar clover coral dahlia fern fig hazel honey iris ivy jade "
    "juniper lilac linen lotus maple meadow mint olive opal peach pearl plum poppy rose "
    "sage silk spruce sunny tulip velvet willow"
)


def demo_skin_photo(*, seed: int, spots: int) -> bytes:
    """A made-up close-up of skin: a warm tone with `spots` red marks, as a JPEG."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    image = Image.new("RGB", (960, 720), (224, 182, 158))
    draw = ImageDraw.Draw(image)
    for _ in range(spots):
        x, y, r = rng.randrange(40, 920), rng.randrange(40, 680), rng.randrange(6, 22)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(196, 110, 100))
    out = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(4)).save(out, format="JPEG", quality=85)
    return out.getvalue()


def readable_password() -> str:
    """Like "coral-meadow-4821": easy to read aloud, random enough for a demo."""
    words = [secrets.choice(_WORDS.split()) for _ in range(2)]
    return f"{words[0]}-{words[1]}-{secrets.randbelow(9000) + 1000}"


def next_weekday(today: date, weekday: int, *, days_ahead: int) -> date:
    """The first `weekday` at least `days_ahead` days after `today`."""
    day = today + timedelta(days=days_ahead)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


class Command(BaseCommand):
    help = "Load a demo clinic with treatments, aestheticians, patients and sign-in accounts."

    def handle(self, *args, **options):
        now = timezone.now()
        self.demo_password = os.environ.get("DEMO_PASSWORD", "")
        with transaction.atomic():
            treatments = self.seed_treatments()
            self.seed_consent_forms(treatments, now=now)
            locations = self.seed_locations(treatments)
            accounts = {}
            accounts["admin"] = self.account(
                "admin",
                first_name="Morgan",
                last_name="Hayes",
                email="admin@skinclinic.example",
                is_staff=True,
                is_superuser=True,
            )
            accounts["frontdesk"] = self.account(
                "frontdesk",
                first_name="Taylor",
                last_name="Brooks",
                email="frontdesk@skinclinic.example",
                is_staff=True,
            )
            self.seed_front_desk(accounts["frontdesk"][0])
            providers, accounts["aesthetician"] = self.seed_aestheticians(treatments, locations)
            self.seed_time_off(providers, locations, now=now)
            booked_by = accounts["frontdesk"][0]
            for spec in PATIENTS:
                if spec.username:
                    accounts[spec.username] = self.account(
                        spec.username,
                        first_name=spec.first_name,
                        last_name=spec.last_name,
                        email=spec.email,
                    )
                user = accounts[spec.username][0] if spec.username else None
                patient = self.seed_patient(spec, user)
                self.book_first_visits(
                    patient, spec, treatments, locations, providers, now=now, booked_by=booked_by
                )
            self.seed_week(treatments, locations, providers, now=now, booked_by=booked_by)
            self.seed_no_show(treatments, locations, providers, now=now, booked_by=booked_by)
            self.seed_waitlist(treatments, locations, now=now, booked_by=booked_by)
            self.seed_failed_message()
            for username in ("admin", "frontdesk", "aesthetician"):
                self.seed_authenticator(accounts[username][0])
        self.print_accounts(accounts)

    def seed_treatments(self) -> dict[str, Treatment]:
        treatments = {}
        for spec in TREATMENTS:
            fields = dict(spec)
            slug = fields.pop("slug")
            protocol = fields.pop("protocol", None)
            treatment, _ = Treatment.objects.get_or_create(slug=slug, defaults=fields)
            spanish = TREATMENTS_ES.get(slug, {})
            if spanish and not treatment.name_es:
                for field, text in spanish.items():
                    setattr(treatment, f"{field}_es", text)
                treatment.save(update_fields=[f"{field}_es" for field in spanish])
            if protocol:
                Protocol.objects.get_or_create(treatment=treatment, defaults=protocol)
            treatments[slug] = treatment
        screened = [treatments[slug] for slug in SCREENED_TREATMENTS]
        for order, rule in enumerate(DEFAULT_RULES, start=1):
            row, _ = ScreeningRule.objects.get_or_create(
                code=rule.code,
                defaults={
                    "question": rule.question,
                    "condition": rule.condition,
                    "outcome": rule.outcome.value,
                    "lookback_days": rule.lookback_days,
                    "explanation": rule.explanation,
                    "display_order": order,
                },
            )
            spanish_rule = SCREENING_ES.get(rule.code, {})
            if spanish_rule and not row.question_es:
                for field, text in spanish_rule.items():
                    setattr(row, f"{field}_es", text)
                row.save(update_fields=[f"{field}_es" for field in spanish_rule])
            row.treatments.add(*screened)
        return treatments

    def seed_consent_forms(self, treatments, *, now) -> None:
        from consent.models import ConsentForm
        from consent.services import publish

        for spec in CONSENT_FORMS:
            fields = dict(spec)
            slug = fields.pop("treatment")
            form, _ = ConsentForm.objects.get_or_create(
                title=fields.pop("title"),
                defaults={**fields, "treatment": treatments[slug] if slug else None},
            )
            publish(form, now=now - timedelta(days=120))

    def seed_locations(self, treatments: dict[str, Treatment]) -> dict[str, Location]:
        locations = {}
        for spec in LOCATIONS:
            fields = dict(spec)
            slug = fields.pop("slug")
            rooms = fields.pop("rooms")
            location, _ = Location.objects.get_or_create(slug=slug, defaults=fields)
            for name, slugs in rooms.items():
                room, _ = Room.objects.get_or_create(location=location, name=name)
                hosted = treatments.values() if slugs is None else [treatments[s] for s in slugs]
                room.treatments.add(*hosted)
            # A 20% deposit, and fees for a late cancel or a missed visit (payments).
            PaymentPolicy.objects.get_or_create(
                location=location,
                treatment=None,
                defaults={
                    "deposit": Charge.PERCENT,
                    "deposit_value": Decimal(20),
                    "late_cancel_fee": Charge.FIXED,
                    "late_cancel_fee_value": Decimal(50),
                    "no_show_fee": Charge.PERCENT,
                    "no_show_fee_value": Decimal(50),
                },
            )
            locations[slug] = location
        return locations

    def seed_front_desk(self, user: User) -> None:
        # The group's admin permissions are granted after every migrate (accounts/roles.py).
        user.groups.add(Group.objects.get_or_create(name="Front desk")[0])

    def seed_aestheticians(self, treatments, locations):
        group = Group.objects.get_or_create(name="Aesthetician")[0]
        providers = {}
        sign_in = None
        for spec in AESTHETICIANS:
            username = spec["username"]
            user, password = self.account(
                username,
                first_name=spec["first_name"],
                last_name=spec["last_name"],
                email=f"{spec['first_name']}.{spec['last_name']}@skinclinic.example".lower(),
                can_sign_in=username == "aesthetician",
            )
            if username == "aesthetician":
                sign_in = (user, password)
            user.groups.add(group)
            provider, _ = Provider.objects.get_or_create(
                user=user,
                defaults={
                    "display_name": f"{spec['first_name']} {spec['last_name']}",
                    "title": spec["title"],
                    "bio": spec["bio"],
                    "colour": spec["colour"],
                },
            )
            slugs = spec["treatments"]
            provider.treatments.add(
                *(treatments.values() if slugs is None else [treatments[s] for s in slugs])
            )
            for hours in spec["hours"]:
                location = locations[hours.location]
                provider.locations.add(location)
                for weekday in hours.weekdays:
                    WorkingHours.objects.get_or_create(
                        provider=provider,
                        location=location,
                        weekday=weekday,
                        start_time=hours.start,
                        end_time=hours.end,
                    )
            providers[username] = provider
        return providers, sign_in

    def seed_time_off(self, providers, locations, *, now: datetime) -> None:
        provider = providers[TIME_OFF["username"]]
        if provider.time_off.exists():
            return
        location = provider.locations.order_by("pk").first()
        day = next_weekday(
            location.local(now).date(), TIME_OFF["weekday"], days_ahead=TIME_OFF["days_ahead"]
        )
        start = datetime.combine(day, time.min, tzinfo=location.zone)
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=location.zone)
        TimeOff.objects.create(provider=provider, start=start, end=end, reason=TIME_OFF["reason"])

    def seed_patient(self, spec: DemoPatient, user: User | None) -> Patient:
        patient, _ = Patient.objects.get_or_create(
            email=spec.email,
            defaults={
                "user": user,
                "first_name": spec.first_name,
                "last_name": spec.last_name,
                "phone": spec.phone,
                "date_of_birth": spec.date_of_birth,
                "fitzpatrick_type": spec.fitzpatrick_type,
                "sms_consent": spec.sms_consent,
            },
        )
        return patient

    def book_first_visits(
        self, patient, spec, treatments, locations, providers, *, now, booked_by
    ) -> None:
        if patient.appointments.exists():
            self.stdout.write(f"{patient} already has appointments; left as they are.")
            return
        visit = spec.visit
        treatment = treatments[visit.treatment]
        location = locations[visit.location]
        provider = providers[visit.provider]
        day = next_weekday(location.local(now).date(), visit.weekday, days_ahead=visit.days_ahead)
        booked_at = now
        if visit.started_days_ago:
            # Booked back then (services take `now`), so session 2 falls around today.
            day = location.local(now).date() - timedelta(days=visit.started_days_ago)
            while day.weekday() > 4:
                day -= timedelta(days=1)
            booked_at = datetime.combine(day - timedelta(days=7), time(9), tzinfo=location.zone)
        start = datetime.combine(day, visit.start, tzinfo=location.zone)
        try:
            if visit.sessions:
                plan = services.book_plan(
                    patient=patient,
                    treatment=treatment,
                    location=location,
                    sessions=visit.sessions,
                    first_start=start,
                    now=booked_at,
                    provider=provider,
                    booked_by=booked_by,
                    staff=True,
                )
                if visit.started_days_ago:
                    self.chart_first_session(plan, provider)
            else:
                services.book_appointment(
                    patient=patient,
                    treatment=treatment,
                    location=location,
                    start=start,
                    now=now,
                    provider=provider,
                    booked_by=booked_by,
                    staff=True,
                    kind=(
                        Appointment.Kind.CONSULTATION
                        if treatment.is_consultation
                        else Appointment.Kind.SINGLE
                    ),
                )
        except services.BookingError as error:
            self.stdout.write(f"Skipped booking {patient}: {error}")
            return
        self.answer_screening(patient, spec, treatment, today=location.local(now).date(), now=now)
        what = f"{visit.sessions} sessions of " if visit.sessions else ""
        self.stdout.write(
            f"Booked {patient}: {what}{treatment} with {provider} at {location}, "
            f"from {start:%a %b %-d %H:%M}."
        )

    def week_patient(self, number: int) -> Patient:
        first = WEEK_FIRST_NAMES[number % len(WEEK_FIRST_NAMES)]
        last = WEEK_LAST_NAMES[number // len(WEEK_FIRST_NAMES) % len(WEEK_LAST_NAMES)]
        patient, _ = Patient.objects.get_or_create(
            email=f"{first.lower()}.{last.lower()}{number}@example.com",
            defaults={
                "first_name": first,
                "last_name": last,
                "phone": f"+1 404 555 {1000 + number:04d}",
                "date_of_birth": date(1970 + number % 30, 1 + number % 12, 1 + number % 28),
                "fitzpatrick_type": 1 + number % 6,
                "sms_consent": number % 2 == 0,
            },
        )
        return patient

    def seed_week(self, treatments, locations, providers, *, now, booked_by) -> None:
        """A busy week from today: several visits per aesthetician per day at both locations,
        one of them cancelled; all through the booking services, as the front desk would.
        Booked once: a second run (another day) leaves the week as it is."""
        if Patient.objects.filter(email__regex=r"\d@example\.com$").exists():
            self.stdout.write("The busy week is already booked; left as it is.")
            return
        today = locations["buckhead"].local(now).date()
        number = 0
        week = []
        for spec in AESTHETICIANS:
            provider = providers[spec["username"]]
            allowed = spec["treatments"]
            for hours in spec["hours"]:
                location = locations[hours.location]
                for day in (today + timedelta(days=d) for d in range(7)):
                    if day.weekday() not in hours.weekdays:
                        continue
                    for offset in WEEK_OFFSETS_MINUTES:
                        slug = WEEK_TREATMENTS[number % len(WEEK_TREATMENTS)]
                        if allowed is not None and slug not in allowed:
                            slug = "hydrafacial"
                        opening = datetime.combine(day, hours.start, tzinfo=location.zone)
                        start = opening + timedelta(minutes=offset)
                        visit = self.book_week_visit(
                            number, treatments[slug], location, provider, start, hours,
                            now=now, booked_by=booked_by,
                        )  # fmt: skip
                        number += 1
                        if visit is not None:
                            week.append(visit)
        future = [v for v in week if v.start > now + timedelta(days=2)]
        if future and not Appointment.objects.filter(status="cancelled").exists():
            services.cancel_appointment(
                appointment=future[0],
                now=now,
                actor=booked_by,
                reason="Patient called: travelling for work that week.",
                staff=True,
            )

    def book_week_visit(
        self, number, treatment, location, provider, start, hours, *, now, booked_by
    ):
        """Patient `number`'s one visit, or None (already booked, or the time is not free)."""
        end_of_day = datetime.combine(start.date(), hours.end, tzinfo=location.zone)
        if start + timedelta(minutes=treatment.visit_minutes) > end_of_day:
            return None
        kind = Appointment.Kind.CONSULTATION if treatment.is_consultation else None
        try:
            # A patient whose time is taken is not kept: every demo patient has a visit.
            with transaction.atomic():
                patient = self.week_patient(number)
                if patient.appointments.exists():
                    return None
                return services.book_appointment(
                    patient=patient,
                    treatment=treatment,
                    location=location,
                    start=start,
                    now=now,
                    provider=provider,
                    booked_by=booked_by,
                    staff=True,
                    kind=kind or Appointment.Kind.SINGLE,
                )
        except services.BookingError:
            return None

    def seed_no_show(self, treatments, locations, providers, *, now, booked_by) -> None:
        """A maintenance visit two days ago that the patient did not come to."""
        if Appointment.objects.filter(status=Appointment.Status.NO_SHOW).exists():
            return
        location = locations["buckhead"]
        day = location.local(now).date() - timedelta(days=2)
        while day.weekday() not in (MON, TUE, WED, THU, FRI):
            day -= timedelta(days=1)
        start = datetime.combine(day, time(11), tzinfo=location.zone)
        booked_at = start - timedelta(days=10)
        try:
            with transaction.atomic():
                patient = self.week_patient(900)
                visit = services.book_appointment(
                    patient=patient,
                    treatment=treatments["microneedling"],
                    location=location,
                    start=start,
                    now=booked_at,
                    provider=providers["aesthetician"],
                    booked_by=booked_by,
                    staff=True,
                    kind=Appointment.Kind.MAINTENANCE,
                )
        except services.BookingError as error:
            self.stdout.write(f"Skipped the no-show: {error}")
            return
        services.change_status(
            appointment=visit,
            status=Appointment.Status.NO_SHOW,
            now=start + timedelta(minutes=20),
            actor=booked_by,
            reason="Did not arrive; two calls unanswered.",
        )

    def seed_waitlist(self, treatments, locations, *, now, booked_by) -> None:
        # Booked for a course later on, hoping for a facial this week.
        patient = Patient.objects.filter(email="emily.chen@example.com").first()
        if patient is None or WaitlistEntry.objects.exists():
            return
        today = locations["midtown"].local(now).date()
        waitlist.add_entry(
            entry=WaitlistEntry(
                treatment=treatments["hydrafacial"],
                location=locations["midtown"],
                earliest_date=today,
                latest_date=today + timedelta(days=6),
                notes="Any afternoon; before a wedding on the weekend.",
            ),
            patient=patient,
            actor=booked_by,
            now=now,
        )

    def seed_failed_message(self) -> None:
        """One text the provider refused, for the front desk's failed-messages page. Set on the
        row directly (as the dispatcher leaves it after its last attempt): running the real
        dispatcher here would send every message that is due."""
        from notifications.dispatch import MAX_ATTEMPTS
        from notifications.models import Notification

        if Notification.objects.failed().exists():
            return
        text = (
            Notification.objects.filter(channel="sms", status=Notification.Status.PENDING)
            .order_by("due_at", "pk")
            .first()
        )
        if text is None:
            return
        text.status = Notification.Status.FAILED
        text.attempts = MAX_ATTEMPTS
        text.last_error = "SMSError: Twilio answered 400: the 'To' number is not a mobile number"
        text.save(update_fields=["status", "attempts", "last_error"])

    def chart_first_session(self, plan, provider) -> None:
        """Session 1 done and charted, so the aesthetician sees last time's depths."""
        # The demo wires the whole clinic together; booking code proper never imports charts.
        from charts.services import ZoneEntry, save_chart

        first = plan.appointments.get(session_number=1)
        self.sign_consent(first, witness=provider.user)
        save_chart(
            appointment=first,
            details={
                "numbing_agent": "BLT cream 20/6/4",
                "numbing_applied_at": first.start,
                "device": "SkinPen Precision",
                "cartridge_lot": "SP-24-0913",
                "skin_response": "expected",
                "aftercare_given": "Hyaluronic serum, SPF 50, no actives for 72 hours.",
                "notes": "First session: tolerated well; go 0.25 mm deeper on cheeks next time.",
            },
            zones=[
                ZoneEntry("forehead", Decimal("0.75")),
                ZoneEntry("cheeks", Decimal("1.50")),
                ZoneEntry("chin", Decimal("1.00")),
            ],
            now=first.end,
            actor=provider.user,
        )
        self.photograph(first, provider)

    def photograph(self, visit, provider) -> None:
        """Before and after photos of session 1's cheeks (drawn here, no real patient),
        shareable so the patient's progress page shows them too."""
        from photos.services import Upload, upload_photos

        for kind, spots in (("before", 28), ("after", 9)):
            data = demo_skin_photo(seed=visit.pk, spots=spots)
            upload_photos(
                appointment=visit,
                zone="cheeks",
                kind=kind,
                files=[Upload(name=f"demo-{kind}.jpg", size=len(data), file=io.BytesIO(data))],
                shareable=True,
                actor=provider.user,
                now=visit.end,
            )

    def sign_consent(self, visit: Appointment, *, witness: User) -> None:
        """The patient signs the visit's consent on the clinic's tablet at check-in."""
        import base64
        import io

        from PIL import Image, ImageDraw

        from consent import services as consent

        image = Image.new("RGBA", (600, 180), (0, 0, 0, 0))
        ImageDraw.Draw(image).line(
            [(30, 120), (90, 50), (140, 130), (210, 60), (300, 120), (420, 70), (560, 110)],
            fill=(20, 20, 60, 255),
            width=4,
        )
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        for version in consent.required_versions(visit):
            consent.sign(
                version=version,
                patient=visit.patient,
                appointment=visit,
                shown_sha256=consent.text_sha256(consent.render_version(version)),
                signature_data_url="data:image/png;base64,"
                + base64.b64encode(buffer.getvalue()).decode(),
                ticked=version.checkboxes,
                now=visit.start - timedelta(minutes=10),
                ip_address="127.0.0.1",
                user_agent="Clinic tablet (demo)",
                actor=witness,
                witness=witness,
            )

    def answer_screening(self, patient, spec: DemoPatient, treatment, *, today, now) -> None:
        for rule in treatment.screening_rules.all():
            yes = rule.code in spec.yes_answers
            days_ago = spec.yes_answers.get(rule.code)
            ScreeningAnswer.objects.create(
                patient=patient,
                rule=rule,
                yes=yes,
                last_occurred=today - timedelta(days=days_ago) if days_ago is not None else None,
                answered_at=now,
            )

    def account(self, username: str, *, can_sign_in: bool = True, **fields):
        """The user `username` and its password, or "(unchanged)" when it already exists."""
        user = User.objects.filter(username=username).first()
        if user is not None:
            return user, "(unchanged)"
        user = User(username=username, **fields)
        if can_sign_in:
            password = self.demo_password or readable_password()
            user.set_password(password)
        else:
            password = ""
            user.set_unusable_password()
        user.save()
        return user, password

    def seed_authenticator(self, user: User) -> None:
        """Staff sign in with a code: give the demo staff the published demo secret."""
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            TOTPDevice.objects.create(
                user=user,
                name=DEMO_DEVICE_NAME,
                key=b32decode(DEMO_TOTP_SECRET).hex(),
                confirmed=True,
            )

    def print_accounts(self, accounts) -> None:
        roles = {
            "admin": "superuser: everything, at /admin/",
            "frontdesk": "front desk: calendar, patients; the admin",
            "aesthetician": "aesthetician: own schedule",
            "patient": "patient: own plan and visits",
        }
        self.stdout.write("")
        self.stdout.write(f"{'Account':<14} {'Password':<20} Who")
        for username in ("admin", "frontdesk", "aesthetician", "patient"):
            user, password = accounts[username]
            name = user.get_full_name() or user.username
            self.stdout.write(f"{username:<14} {password:<20} {name} ({roles[username]})")
        self.stdout.write("")
        self.stdout.write(
            "Staff accounts also ask for a code: add the key "
            f"{DEMO_TOTP_SECRET} to any authenticator app (time based, 6 digits), or run "
            "`manage.py demo_code frontdesk` for the current code."
        )
