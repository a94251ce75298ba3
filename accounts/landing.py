"""Where someone lands after signing in, the one answer every sign-in door asks (the sign-in
page, the two-step code, setting up an authenticator, activating a new account).

Each role lands where it works (accounts.roles): an aesthetician on My day, the front desk and
superusers (owners, admins) on the desk calendar, a patient on My appointments (or back on the
booking they were making), someone who only uses the Django admin on the admin, anyone else on
the home page. A `next` page is kept only when it is on this site and the user may open it:
a patient's `next=/staff/...` or an aesthetician's `next=/staff/` (the desk calendar) is dropped
for their own landing page instead of a 403.
"""

from urllib.parse import urlsplit

from django.http import HttpRequest
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.roles import is_aesthetician, is_front_desk, patient_of

BOOKING_DRAFT = "booking_draft"  # the session key of a booking being made (portal.views.draft)


def landing_url(user, session=None) -> str:
    """The page this signed-in user works from."""
    if is_aesthetician(user):
        return reverse("my_day")
    if is_front_desk(user):
        return reverse("desk:calendar")
    if patient_of(user) is not None:
        if session is not None and session.get(BOOKING_DRAFT):
            return reverse("book_review")
        return reverse("my_appointments")
    if getattr(user, "is_staff", False):
        return reverse("admin:index")
    return reverse("home")


def may_open(user, url: str) -> bool:
    """True when `url` (a path on this site) is a page this user may open: it exists, and
    the role check on its view (accounts.roles' decorators), or the admin's is_staff, lets
    them in."""
    path = urlsplit(url).path
    try:
        match = resolve(path)
    except Resolver404:
        return False
    if "admin" in match.namespaces:
        return bool(user.is_active and user.is_staff)
    check = getattr(match.func, "role_check", None)
    return check is None or bool(check(user))


def after_sign_in_url(request: HttpRequest, next_url: str | None = None) -> str:
    """Where the signed-in `request.user` goes now: `next_url` when it is safe (this host)
    and theirs to open, otherwise their landing page."""
    user = request.user
    if (
        next_url
        and url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and may_open(user, next_url)
    ):
        return next_url
    return landing_url(user, request.session)
