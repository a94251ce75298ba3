"""English and Spanish (issue 15): the catalogue is complete, every email and SMS goes out in
the patient's own language with dates in that language's order, and the switcher and sign-in
put a patient's pages in their language. Every template marks what it shows for translation,
staff pages too, and the front desk's pages read in Spanish for a Spanish-speaking desk."""

import os
import re
import shutil
import subprocess
import sys
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from booking import services
from booking.models import Patient
from booking.services.windows import out_of_window_reason
from notifications import dispatch as dispatcher
from notifications import planning, rendering, sms
from notifications.models import Notification
from tests import factories
from tests.helpers import at, book, sign_in
from treatments import protocols
from treatments.models import ScreeningRule, Treatment

Kind = Notification.Kind
ROOT = Path(settings.BASE_DIR)
CATALOGUE = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"
THURSDAY = date(2027, 3, 4)


def entries(po: Path) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) of every message of a .po file but its header."""
    found = []
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        fuzzy = "#, fuzzy" in block or ", fuzzy" in block
        parts: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?|msgctxt) (".*")$', line)
            if match:
                key = match.group(1)
                parts[key] = parts.get(key, "") + eval(match.group(2))  # noqa: S307 (po string)
            elif line.startswith('"') and key:
                parts[key] += eval(line)  # noqa: S307
        if parts.get("msgid"):
            translated = parts.get("msgstr", "") or parts.get("msgstr[0]", "")
            found.append((parts["msgid"], translated, fuzzy))
    return found


@pytest.mark.skipif(not shutil.which("xgettext"), reason="makemessages needs GNU gettext")
def test_makemessages_leaves_nothing_untranslated(tmp_path):
    """What `makemessages` finds today is all in the committed catalogue, translated. It runs
    on a copy of the project, so the committed catalogue is never rewritten by the test."""
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "staticfiles", "node_modules", "media", "test-artifacts",
            "__pycache__", ".mypy_cache", ".ruff_cache", "*.mo",
        ),
    )  # fmt: skip
    subprocess.run(
        [
            sys.executable, "manage.py", "makemessages", "-l", "es", "--no-location",
            "--ignore=tests", "--ignore=bench", "--ignore=staticfiles", "--ignore=node_modules",
            "-v", "0",
        ],
        cwd=copy,
        check=True,
        env={**os.environ, "DATABASE_URL": ""},
        timeout=300,
    )  # fmt: skip
    fresh = entries(copy / "locale" / "es" / "LC_MESSAGES" / "django.po")
    assert len(fresh) >= 500
    untranslated = [msgid for msgid, msgstr, fuzzy in fresh if not msgstr or fuzzy]
    assert untranslated == []


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="needs GNU gettext's msgfmt")
def test_the_compiled_catalogue_is_current(tmp_path):
    """`make run` needs no gettext: the .mo is committed, and must match the .po."""
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", compiled, CATALOGUE], check=True)
    assert compiled.read_bytes() == CATALOGUE.with_suffix(".mo").read_bytes()


@pytest.fixture
def spanish(db):
    return factories.PatientFactory(
        first_name="Lucía",
        email="lucia@example.com",
        phone="+1 404 555 0123",
        sms_consent=True,
        language="es",
    )


@pytest.fixture
def memory_backends(settings):
    settings.SMS_BACKEND = "notifications.sms.MemorySMSBackend"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sms.MemorySMSBackend.outbox.clear()
    yield sms.MemorySMSBackend.outbox
    sms.MemorySMSBackend.outbox.clear()


def english_phrases() -> set[str]:
    """The English of every catalogue entry long enough to be a phrase (no format strings)."""
    phrases = set()
    for msgid, _msgstr, _fuzzy in entries(CATALOGUE):
        for piece in re.split(r"%\(\w+\)s", msgid):
            piece = piece.strip(" ,.:()")
            if len(piece) >= 12:
                phrases.add(piece)
    return phrases


# What payments.receipts queues for a card payment of a course paid up front.
RECEIPT = {
    "number": "P-1",
    "amount": "1260.00",
    "currency": "USD",
    "kind": "course",
    "fee": "",
    "method": "card_on_file",
    "last4": "4242",
    "treatment": "Microneedling",
    "sessions": 4,
    "at": "2027-03-01T13:00:00+00:00",
}


def every_message(clinic, patient, now):
    appointment = book(clinic, patient, at(THURSDAY, 10), now, staff=True)
    for kind in Kind:
        plan_kind = kind in planning.PLAN_KINDS
        for channel in planning.CHANNELS[kind]:
            yield Notification(
                key=f"t:{kind}:{channel}",
                kind=kind,
                channel=channel,
                patient=patient,
                appointment=None if plan_kind else appointment,
                about_start=None if plan_kind else appointment.start,
                session_number=2,
                context={
                    "location": clinic["location"].pk,
                    "earliest": "2027-03-25",
                    "latest": "2027-04-01",
                    **(RECEIPT if kind == Kind.RECEIPT else {}),
                },
                due_at=now,
            )


def rendered(notification, now) -> str:
    if notification.channel == "sms":
        return rendering.render_sms(notification)
    message = rendering.build_email(notification, now=now)
    html = message.alternatives[0][0]
    return "\n".join([message.subject, message.body, html])


def test_every_email_and_sms_is_in_the_patients_language(clinic, spanish, now):
    leftovers = {}
    phrases = english_phrases()
    count = 0
    for notification in every_message(clinic, spanish, now):
        text = rendered(notification, now)
        count += 1
        english = [phrase for phrase in phrases if phrase in text]
        if english:
            leftovers[(notification.kind, notification.channel)] = english
        assert "Lucía" in text
    assert count >= 15
    assert leftovers == {}


def test_spanish_dates_read_in_spanish_order(clinic, spanish, now):
    messages = {(n.kind, n.channel): n for n in every_message(clinic, spanish, now)}
    email = rendering.build_email(messages[(Kind.CONFIRMATION, "email")], now=now)
    assert email.subject == "Tu cita está reservada"
    assert "jueves 4 de marzo de 2027 a las 10:00" in email.body
    assert "Hola, Lucía:" in email.body
    assert '<html lang="es">' in email.alternatives[0][0]
    text = rendering.render_sms(messages[(Kind.REMINDER_LONG, "sms")])
    assert "jue 4 mar" in text and "10:00" in text
    assert "BAJA" in text


def test_an_english_patient_still_reads_english(clinic, patient, now):
    messages = {(n.kind, n.channel): n for n in every_message(clinic, patient, now)}
    email = rendering.build_email(messages[(Kind.CONFIRMATION, "email")], now=now)
    assert email.subject == "Your visit is booked"
    assert "Thursday, March 4, 2027 at 10:00 AM" in email.body
    assert "Reply STOP to opt out." in rendering.render_sms(messages[(Kind.CONFIRMATION, "sms")])


def test_the_dispatcher_writes_to_each_patient_in_their_language(
    clinic, spanish, now, memory_backends
):
    """A Spanish patient and an English one, booked on the same page in English."""
    english = factories.PatientFactory(
        first_name="Ann", email="ann@example.com", phone="+1 404 555 0124", sms_consent=True
    )
    book(clinic, spanish, at(THURSDAY, 10), now, staff=True)
    book(clinic, english, at(THURSDAY, 14), now, staff=True)
    dispatcher.dispatch_due(clock=lambda: now, budget_seconds=30)
    subjects = {message.to[0]: message.subject for message in mail.outbox}
    assert subjects == {
        "lucia@example.com": "Tu cita está reservada",
        "ann@example.com": "Your visit is booked",
    }
    texts = {to: body for to, body in ((m.to, m.body) for m in memory_backends)}
    assert any("reservada" in body for body in texts.values())
    assert any("is booked" in body for body in texts.values())


def test_the_switcher_puts_pages_in_spanish(client, db):
    response = client.post(reverse("switch_language"), {"language": "es", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get(reverse("home")).content.decode()
    assert '<html lang="es">' in page
    assert ">Reservar</a>" in page and "Iniciar sesión" in page
    client.post(reverse("switch_language"), {"language": "en", "next": "/"})
    assert '<html lang="en">' in client.get(reverse("home")).content.decode()


def test_the_browsers_language_is_the_default(client, db):
    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9").content.decode()
    assert '<html lang="es">' in page


def test_the_switcher_refuses_nonsense_and_foreign_redirects(client, db):
    response = client.post(reverse("switch_language"), {"language": "xx"})
    assert response.status_code == 400
    assert "English or Spanish" in response.content.decode()
    response = client.post(
        reverse("switch_language"), {"language": "es", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"
    assert client.get(reverse("switch_language")).status_code == 405


def test_a_patients_choice_is_stored_and_follows_them_to_a_new_browser(client, patient):
    sign_in(client, patient.user)
    client.post(reverse("switch_language"), {"language": "es", "next": "/"})
    patient.refresh_from_db()
    assert patient.language == "es"
    # Another browser, which asks for English: once signed in, the pages are in Spanish.
    other = type(client)()
    sign_in(other, patient.user)
    page = other.get(reverse("my_appointments"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="es">' in page and "Mis citas" in page


def test_a_new_record_takes_the_language_it_was_made_in(db):
    with translation.override("es"):
        made_in_spanish = factories.PatientFactory()
    made_in_english = factories.PatientFactory()
    assert (made_in_spanish.language, made_in_english.language) == ("es", "en")
    assert Patient.objects.filter(language="").count() == 0


def test_treatment_content_follows_the_language_and_falls_back_to_english(client, clinic):
    treatment = clinic["treatment"]
    treatment.name_es = "Microagujas"
    treatment.aftercare_en = "Wear SPF 30 every day."
    treatment.save()
    url = treatment.get_absolute_url()
    spanish = client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Microagujas" in spanish and "Microagujas" not in english
    assert "Microneedling" in english
    # No Spanish aftercare written yet: the English one is shown rather than nothing.
    with translation.override("es"):
        assert treatment.aftercare == "Wear SPF 30 every day."


def test_the_demo_clinic_speaks_spanish(db):
    call_command("seed_demo", verbosity=0)
    with translation.override("es"):
        names = set(Treatment.objects.values_list("name", flat=True))
        questions = list(ScreeningRule.objects.values_list("question", flat=True))
    assert {"Microagujas", "Peeling químico", "Consulta de piel"} <= names
    assert all(question.startswith("¿") for question in questions)


class _Text(HTMLParser):
    """The text a reader sees, one entry per text node (script and style skipped)."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and not self._skip:
            self.texts.append(text)


def visible_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.texts


def untranslated(english: str, spanish: str, names: set[str]) -> set[str]:
    """Text nodes the Spanish page shows exactly as the English one does, beyond names,
    numbers and the language switcher's own labels."""
    ignorable = names | {"English", "Español", "skinclinic", "·", "–", ",", "."}
    same = set(visible_text(english)) & set(visible_text(spanish))
    return {
        text
        for text in same
        if text not in ignorable
        and not re.fullmatch(r"Error \d{3}", text)  # the same in Spanish
        and re.search(r"[A-Za-z]{3,}", text)
        and not any(text.strip(" ,.·") in (name, f"{name}.") for name in names)
    }


def both_languages(client, url) -> tuple[str, str]:
    """The page as the patient reads it in English, then after choosing Spanish."""
    client.post(reverse("switch_language"), {"language": "en"})
    english = client.get(url)
    client.post(reverse("switch_language"), {"language": "es"})
    spanish = client.get(url)
    assert english.status_code == spanish.status_code
    return english.content.decode(), spanish.content.decode()


def names_of(clinic, patient=None) -> set[str]:
    location = clinic["location"]
    names = {
        location.name,
        location.address,
        str(location.phone),
        location.phone.as_international,
        location.time_zone,
        clinic["treatment"].name,
        clinic["provider"].display_name,
    }
    if patient:
        names |= {patient.first_name, patient.full_name}
    return {name for name in names if name}


def test_patient_pages_have_no_english_left_in_spanish(signed_in, clinic, patient, frozen):
    """Every text node of these pages differs between English and Spanish, but names."""
    far = book(clinic, patient, at(THURSDAY, 10), frozen)
    near = book(clinic, patient, at(date(2027, 3, 2), 10), frozen)  # inside the notice
    urls = [
        reverse("locations"),
        reverse("visit_cancel", args=[far.pk]),
        reverse("visit_cancel", args=[near.pk]),
        reverse("visit_reschedule", args=[near.pk]),
        "/no-such-page/",
    ]
    leftovers = {}
    for url in urls:
        english, spanish = both_languages(signed_in, url)
        left = untranslated(english, spanish, names_of(clinic, patient))
        if left:
            leftovers[url] = sorted(left)
    assert leftovers == {}


def rule_texts(rules) -> set[str]:
    """The screening questions as the clinic wrote them (content, English when no Spanish)."""
    texts = set()
    for rule in rules:
        texts |= {rule.question_en, rule.condition_en or "", rule.explanation_en or ""}
        texts.add(f": {rule.explanation_en}")  # "Who it is not for": condition: explanation
        texts.add(f"{rule.condition_en}: {rule.explanation_en}")
    return {text for text in texts if text}


def through_the_booking_flow(client, clinic, start) -> dict[str, str]:
    """The booking flow's pages, by name, once a time is chosen and the screening answered."""
    treatment, location = clinic["treatment"], clinic["location"]
    times = reverse("book_times", args=[treatment.slug, location.slug]) + "?with=any"
    client.post(times, {"start": start.isoformat()})
    return {
        "start": reverse("book_start"),
        "location": reverse("book_location", args=[treatment.slug]),
        "provider": reverse("book_provider", args=[treatment.slug, location.slug]),
        "times": times,
        "screening": reverse("book_screening"),
    }


DAY_OF_TIMES = re.compile(
    r'<span class="fw-semibold">([^<]+)</span>.*?<div class="slot-grid pb-2">(.*?)</div>', re.S
)
TIME_BUTTON = re.compile(r'<button [^>]*aria-label="([^"]+)">([^<]+)</button>')


def test_each_free_time_names_its_day_and_clock_in_the_pages_language(signed_in, clinic, frozen):
    """Every time button of the week reads "<its day> at <its time>" to a screen reader, in
    the page's language and the location's wall clock, and shows the same clock."""
    treatment, location = clinic["treatment"], clinic["location"]
    url = reverse("book_times", args=[treatment.slug, location.slug]) + "?with=any"
    english, spanish = both_languages(signed_in, url)

    for page, joiner, first_day, clock_format in (
        (english, "at", "Monday, March 1", r"\d{1,2}:\d\d [AP]M"),
        (spanish, "a las", "lunes 1 de marzo", r"\d\d:\d\d"),
    ):
        days = DAY_OF_TIMES.findall(page)
        assert days[0][0] == first_day and len(days) >= 5
        for day, buttons in days:
            times = TIME_BUTTON.findall(buttons)
            assert times
            for label, clock in times:
                assert label == f"{day} {joiner} {clock}"
                assert re.fullmatch(clock_format, clock)


def test_the_booking_flow_and_my_pages_have_no_english_left_in_spanish(
    signed_in, clinic, patient, frozen, screening_rules
):
    """The booking flow (start, where, with whom, times, health questions, review), my
    appointments, a visit, my details and a treatment: all in Spanish but names."""
    visit = book(clinic, patient, at(THURSDAY, 10), frozen, staff=True)
    treatment = clinic["treatment"]
    midtown = factories.LocationFactory(name="Midtown")  # so "where?" is a question
    other = factories.ProviderFactory(locations=[midtown], treatments=[treatment])
    factories.RoomFactory(location=midtown, treatments=[treatment])
    names = names_of(clinic, patient) | rule_texts(screening_rules)
    names |= {midtown.name, midtown.address, other.display_name}
    names |= {f"{treatment.visit_minutes} min", f"{treatment.duration_minutes} min"}
    names |= {f"${treatment.price:.0f}", patient.email, f"← {treatment.name}"}
    names.add(f"{treatment.name} · skinclinic")  # the treatment page's title
    flow = through_the_booking_flow(signed_in, clinic, at(date(2027, 3, 9), 11))
    signed_in.post(reverse("book_screening"), {f"q_{r.code}": "no" for r in screening_rules})
    urls = [
        *flow.values(),
        reverse("book_review"),
        reverse("my_appointments"),
        reverse("visit_detail", args=[visit.pk]),
        reverse("book_done", args=[visit.pk]),
        reverse("my_details"),
        treatment.get_absolute_url(),
    ]
    leftovers = {}
    for url in urls:
        english, spanish = both_languages(signed_in, url)
        assert '<html lang="es">' in spanish
        left = untranslated(english, spanish, names)
        if left:
            leftovers[url] = sorted(left)
    assert leftovers == {}


def test_the_sign_in_pages_have_no_english_left_in_spanish(client, db):
    """Sign in, sign in with a code (before and after asking for one), sign up."""
    factories.PatientFactory(email="lucia@example.com")
    urls = [reverse("login"), reverse("code_sign_in"), reverse("sign_up")]
    leftovers = {}
    for url in urls:
        english, spanish = both_languages(client, url)
        left = untranslated(english, spanish, set())
        if left:
            leftovers[url] = sorted(left)
    client.post(reverse("switch_language"), {"language": "es"})
    asked = client.post(reverse("code_sign_in"), {"email": "lucia@example.com"}, follow=True)
    page = asked.content.decode()
    assert "Revisa tu correo o tu teléfono" in page and "Check your email" not in page
    assert "Código del correo" in page
    assert leftovers == {}


def test_a_spanish_patient_is_refused_in_spanish(signed_in, clinic, patient, frozen):
    """A time outside the aesthetician's hours, chosen by hand: the refusal is in Spanish,
    and an English patient still reads it in English."""
    treatment, location = clinic["treatment"], clinic["location"]
    times = reverse("book_times", args=[treatment.slug, location.slug]) + "?with=any"
    late = at(THURSDAY, 21).isoformat()  # after hours (the day ends at 17:00)
    signed_in.post(reverse("switch_language"), {"language": "es"})
    spanish = signed_in.post(times, {"start": late}, follow=True).content.decode()
    assert "Ese horario está fuera del horario de trabajo de la esteticista." in spanish
    signed_in.post(reverse("switch_language"), {"language": "en"})
    english = signed_in.post(times, {"start": late}, follow=True).content.decode()
    assert "That time is outside the aesthetician&#x27;s working hours." in english


def test_a_course_window_refusal_reads_in_spanish_with_spanish_dates(db):
    """The service's own message: Spanish words and Spanish day-month order."""
    session = protocols.PlannedSession(
        number=2,
        kind=protocols.INITIAL,
        earliest=date(2027, 3, 30),
        target=date(2027, 4, 6),
        latest=date(2027, 4, 13),
        fixed=None,
    )
    with translation.override("es"), pytest.raises(services.OutsideWindow) as refused:
        out_of_window_reason(session, date(2027, 5, 1), staff=False, reason="")
    assert refused.value.message == "La sesión 2 debe ser entre el 30 mar y el 13 abr 2027."
    with pytest.raises(services.OutsideWindow) as english:
        out_of_window_reason(session, date(2027, 5, 1), staff=False, reason="")
    assert english.value.message == "Session 2 must be between Mar 30 and Apr 13, 2027."


def test_the_account_pages_have_no_english_left_in_spanish(client, signed_in, patient, db):
    """Resetting a password, two-step sign-in (off, then setting it up), apps signed in."""
    anonymous = type(client)()
    urls = [
        reverse("password_reset"),
        reverse("password_reset_done"),
        reverse("password_reset_complete"),
        reverse("sign_up_sent"),
    ]
    leftovers = {}
    for url in urls:
        left = untranslated(*both_languages(anonymous, url), set())
        if left:
            leftovers[url] = sorted(left)
    for url in [reverse("two_factor"), reverse("two_factor_setup"), reverse("account_tokens")]:
        english, spanish = both_languages(signed_in, url)
        assert '<html lang="es">' in spanish
        secret = re.search(r'id="secret">([^<]+)<', spanish)
        names = {patient.first_name, patient.full_name} | ({secret.group(1)} if secret else set())
        left = untranslated(english, spanish, names)
        if left:
            leftovers[url] = sorted(left)
    assert leftovers == {}
    setup = signed_in.get(reverse("two_factor_setup")).content.decode()
    assert "Configura la verificación en dos pasos" in setup and "Set up" not in setup


def test_a_course_reads_in_spanish(signed_in, clinic, patient, frozen):
    """A course: my appointments with its progress, booking the next session, a session's
    visit page with its window, and the photo progress page."""
    from booking import services

    plan = services.start_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=4,
        first_start=at(date(2027, 3, 2), 10),
        now=frozen,
    ).plan
    first = plan.appointments.get()
    urls = [
        reverse("my_appointments"),
        reverse("plan_next", args=[plan.pk]),
        reverse("visit_detail", args=[first.pk]),
        reverse("book_done", args=[first.pk]),
        reverse("photos:my_progress", args=[plan.pk]),
    ]
    names = names_of(clinic, patient) | {f"{clinic['treatment'].name} · skinclinic"}
    leftovers = {}
    for url in urls:
        english, spanish = both_languages(signed_in, url)
        assert '<html lang="es">' in spanish
        left = untranslated(english, spanish, names)
        if left:
            leftovers[url] = sorted(left)
    assert leftovers == {}
    page = signed_in.get(reverse("my_appointments")).content.decode()
    assert "0 de 4 sesiones hechas, 1 reservada." in page
    assert "Siguiente: Sesión 2 de 4" in page and "entre el 30 mar y el 13 abr 2027" in page


@pytest.mark.parametrize(
    ("yes_to", "page"),
    [("active_infection", "book_not_now"), ("keloid_history", "book_consult_first")],
)
def test_a_screening_that_stops_the_booking_reads_in_spanish(
    signed_in, clinic, patient, frozen, screening_rules, consultation, yes_to, page
):
    through_the_booking_flow(signed_in, clinic, at(date(2027, 3, 9), 11))
    answers = {f"q_{r.code}": "yes" if r.code == yes_to else "no" for r in screening_rules}
    response = signed_in.post(reverse("book_screening"), answers)
    assert response["Location"] == reverse(page)
    names = names_of(clinic, patient) | rule_texts(screening_rules)
    english, spanish = both_languages(signed_in, reverse(page))
    assert '<html lang="es">' in spanish and "Reservar una consulta" in spanish
    assert untranslated(english, spanish, names) == set()


def test_the_confirm_link_page_reads_in_spanish(client, clinic, spanish, now):
    """The page a reminder's "confirm" link opens, before and after confirming, and once
    the visit has moved."""
    with time_machine.travel(now, tick=False):
        appointment = book(clinic, spanish, at(THURSDAY, 10), now, staff=True)
        url = reverse("visit_confirm", args=[rendering.confirm_token(appointment)])
        names = names_of(clinic, spanish)
        assert untranslated(*both_languages(client, url), names) == set()
        page = client.get(url).content.decode()
        assert "Sí, asistiré" in page and "el jueves 4 de marzo a las 10:00." in page
        done = client.post(url, follow=True).content.decode()
        assert "Gracias, tu cita está confirmada." in done
        services.reschedule_appointment(appointment=appointment, start=at(THURSDAY, 14), now=now)
        moved = client.get(url).content.decode()
        assert "Esta cita cambió de horario desde que te enviamos el enlace." in moved


# The template scanner: text a template writes for a reader must be inside {% translate %}
# or {% blocktranslate %}, staff pages included (they may stay English, but are marked).
TEMPLATES = ROOT / "templates"
# Marked by the payment pages' own change, which is editing them now: drop each name from
# this set when that change lands.
MARKED_ELSEWHERE: set[str] = set()
NOT_OURS = {"drf_spectacular/swagger_ui.html"}  # the API explorer's own page
# Attributes a reader sees or hears (a screen reader reads aria-label and title).
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}
# Words that are the same in every language.
SAME_IN_EVERY_LANGUAGE = {"skinclinic", "mm"}
_CLOSING = {
    "blocktranslate": "endblocktranslate",
    "blocktrans": "endblocktrans",
    "comment": "endcomment",
    "verbatim": "endverbatim",
}
# `{{ x|default:"none" }}` shows its literal; `default:_("none")` is translated.
_FILTER_LITERAL = re.compile(r'\|(?:default|default_if_none|yesno):"([^"]*)"')


def _reader_skeleton(source: str) -> tuple[str, list[str]]:
    """The template with every translated or computed piece replaced by "0" and every tag
    removed, so that only the text it writes itself is left; and its untranslated filter
    literals."""
    from django.template.base import Lexer, TokenType

    pieces, literals, closing = [], [], None
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = (token.contents.split() or [""])[0]
            if closing:
                if name == closing:
                    closing = None
                    pieces.append("0")
            elif name in _CLOSING:
                closing = _CLOSING[name]
            elif name in ("translate", "trans"):
                pieces.append("0")
        elif closing:
            continue
        elif token.token_type == TokenType.VAR:
            pieces.append("0")
            literals += _FILTER_LITERAL.findall(token.contents)
        elif token.token_type == TokenType.TEXT:
            pieces.append(token.contents)
    return "".join(pieces), literals


class _ReaderText(HTMLParser):
    """Text nodes and read attributes, script and style skipped."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")
        self.found += [value for name, value in attrs if name in READ_ATTRIBUTES and value]

    def handle_startendtag(self, tag, attrs):
        self.found += [value for name, value in attrs if name in READ_ATTRIBUTES and value]

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._skip:
            self.found.append(data)


def unmarked_text(source: str) -> list[str]:
    """What a template shows a reader in its own words, outside the translate tags."""
    body = re.sub(r"^(\s*\{%[^%]*%\})*", "", source)
    if re.match(r'\s*[\w:-]+="', body):
        # A partial of attributes only, included inside its page's tag, reads as that tag.
        source = f"<span {body}>"
    skeleton, literals = _reader_skeleton(source)
    parser = _ReaderText()
    parser.feed(skeleton)
    parser.close()
    texts = [" ".join(text.split()) for text in parser.found + literals]
    words = re.compile("|".join(rf"\b{re.escape(word)}\b" for word in SAME_IN_EVERY_LANGUAGE))
    return [text for text in texts if re.search(r"[A-Za-z]{2,}", words.sub("", text))]


def test_the_template_scanner_finds_text_outside_translate_tags():
    source = """{% load i18n %}{# a one-line comment #}{% comment %}Not shown{% endcomment %}
<h1>{% translate "Calendar" %}</h1><p>{% blocktranslate %}Hi {{ name }}{% endblocktranslate %}</p>
<p>Unmarked words</p><p>{{ since }} ago</p>
<input placeholder="Search" title="{% translate 'Find' %}">
<td>{{ who|default:"online" }}</td><td>{{ who|default:_("online") }}</td><p>skinclinic · 3 mm</p>
{# a comment Django only ends on its own line,
   so it prints #}<script>let x = "not text";</script>"""
    assert unmarked_text(source) == [
        "Unmarked words",
        "0 ago",
        "Search",
        "{# a comment Django only ends on its own line, so it prints #}",
        "online",
    ]


def test_the_scanner_reads_a_partial_of_attributes_as_its_tag_would():
    assert unmarked_text('{% load i18n %} data-msg="{% translate "Refused." %}"') == []
    assert unmarked_text('{% load i18n %}{% get_current_language as x %} lang="{{ x }}"') == []
    assert unmarked_text(' title="Refused." data-msg="{% translate "Refused." %}"') == ["Refused."]


def test_every_template_marks_what_it_shows_for_translation():
    """Every page, partial, email and SMS template: patient and staff pages alike."""
    leftovers = {}
    for path in sorted(TEMPLATES.rglob("*")):
        name = path.relative_to(TEMPLATES).as_posix()
        if path.suffix not in (".html", ".txt") or name in MARKED_ELSEWHERE | NOT_OURS:
            continue
        found = unmarked_text(path.read_text(encoding="utf-8"))
        if found:
            leftovers[name] = found
    assert leftovers == {}


def test_the_front_desk_reads_its_pages_in_spanish(client, clinic, patient, front_desk, frozen):
    """A Spanish-speaking front desk: the calendar (day, rooms and week), a visit, phone
    booking, patients and a record, a course, plans due, the waitlist, call backs, messages,
    takings, reports and the day sheet, all in Spanish but for names and numbers."""
    sign_in(client, front_desk)
    visit = book(clinic, patient, at(THURSDAY, 10), frozen, staff=True)
    plan = services.start_plan(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        sessions=3,
        first_start=at(date(2027, 3, 2), 10),
        now=frozen,
    ).plan
    provider = clinic["provider"]
    calendar = reverse("desk:calendar") + "?date=2027-03-04"
    urls = [
        calendar,
        calendar + "&by=room",
        calendar + f"&view=week&provider={provider.pk}",
        reverse("desk:appointment", args=[visit.pk]),
        reverse("desk:book") + f"?patient={patient.pk}",
        reverse("desk:patients") + f"?q={patient.last_name}",
        reverse("desk:patient", args=[patient.pk]),
        reverse("desk:patient_edit", args=[patient.pk]),
        reverse("desk:plan", args=[plan.pk]),
        reverse("desk:plan_new", args=[patient.pk]),
        reverse("desk:plans_overdue"),
        reverse("desk:waitlist") + f"?patient={patient.pk}",
        reverse("desk:call_backs"),
        reverse("failed_messages"),
        reverse("takings"),
        reverse("staff_reports") + "?first=2027-03-01&last=2027-03-31",
        reverse("my_day") + f"?date=2027-03-04&provider={provider.pk}",
        reverse("visit_chart", args=[visit.pk]),
        reverse("photos:visit", args=[visit.pk]),
    ]
    names = names_of(clinic, patient) | {clinic["room"].name, patient.email, str(patient.phone)}
    leftovers = {}
    for url in urls:
        english, spanish = both_languages(client, url)
        assert '<html lang="es">' in spanish, url
        left = {
            text for text in untranslated(english, spanish, names) if _words_beyond(text, names)
        }
        if left:
            leftovers[url] = sorted(left)
    assert leftovers == {}


# Short month names Spanish writes as English does, time zones, a channel and the brand.
SAME_WORDS = {"Mar", "May", "Jun", "Jul", "Sep", "Oct", "Nov", "EST", "EDT", "SMS", "skinclinic"}


def _words_beyond(text: str, names: set[str]) -> bool:
    """Whether ``text`` has a word of three letters or more once the names in it (and
    words both languages share) are taken out: "10:00–11:30 · Ann Lee" has none."""
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    return any(word not in SAME_WORDS for word in re.findall(r"[A-Za-z]{3,}", text))
