"""Two-step sign-in pages: the code after the password, setting up an authenticator app,
recovery codes, and a patient's choice to turn it on or off. The rules are in
accounts.two_factor; accounts.middleware keeps everything else closed until the code is given.

Wrong codes count as failed sign-ins (the same per-IP limit as a wrong password).
"""

import math
from typing import cast

import django_otp
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from accounts import landing, two_factor
from accounts.forms import CodeForm, ConfirmAuthenticatorForm
from accounts.ratelimit import SignInAttempt
from accounts.roles import has_staff_role

RECOVERY_CODES_SESSION_KEY = "two_factor_new_codes"


def _next_url(request: HttpRequest) -> str:
    """The `next` page if it is safe and the user's to open, else their landing page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    return landing.after_sign_in_url(request, target)


def _user(request: HttpRequest) -> User:
    """The signed-in user (every view here is login_required)."""
    return cast(User, request.user)


def _owes_code(user) -> bool:
    return two_factor.needs_second_factor(user) and not two_factor.is_verified(user)


def _verified(request: HttpRequest, device) -> None:
    request.session.cycle_key()  # a new session id for the more trusted session
    django_otp.login(request, device)


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the authenticator app, or a recovery code."""
    user = _user(request)
    if not _owes_code(user):
        return redirect(_next_url(request))
    if not two_factor.has_authenticator(user) and has_staff_role(user):
        return redirect(f"{reverse('two_factor_setup')}?{request.GET.urlencode()}")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        # Counted against the address and the account before the code is checked.
        attempt = SignInAttempt(request, user.get_username())
        if attempt.refused():
            return attempt.too_many(request)
        if form.is_valid():
            check = two_factor.check_code(user, form.cleaned_data["code"])
            if check.device is not None:
                attempt.succeeded()
                _verified(request, check.device)
                if isinstance(check.device, StaticDevice):
                    left = two_factor.recovery_codes_left(user)
                    messages.warning(
                        request,
                        _(
                            "You used a recovery code; %(left)s left. "
                            "Make new ones from Two-step sign-in when you can."
                        )
                        % {"left": left},
                    )
                return redirect(_next_url(request))
            if check.locked_until is not None:
                wait = math.ceil((check.locked_until - timezone.now()).total_seconds())
                seconds = max(1, wait)
                form.add_error(
                    "code",
                    ngettext(
                        "Too many wrong codes. Wait %(seconds)s second, then enter the newest "
                        "code.",
                        "Too many wrong codes. Wait %(seconds)s seconds, then enter the newest "
                        "code.",
                        seconds,
                    )
                    % {"seconds": seconds},
                )
            else:
                form.add_error(
                    "code",
                    _("That code is not right, or was already used. Enter the newest code."),
                )
        status = 400
    return render(
        request,
        "registration/two_factor_verify.html",
        {"form": form, "next": request.GET.get("next", request.POST.get("next", ""))},
        status=status,
    )


@login_required
def setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code (or type the secret), confirm a code.
    Someone who already has an app but has not given a code yet cannot add another here."""
    user = _user(request)
    if _owes_code(user) and two_factor.has_authenticator(user):
        return redirect(f"{reverse('two_factor_verify')}?{request.GET.urlencode()}")
    device = two_factor.start_authenticator(user)
    form = ConfirmAuthenticatorForm(request.POST or None)
    status = 200
    if request.method == "POST":
        # Counted against the address and the account before the code is checked.
        attempt = SignInAttempt(request, user.get_username())
        if attempt.refused():
            return attempt.too_many(request)
        signing_in = _owes_code(user)
        if form.is_valid():
            codes = two_factor.confirm_authenticator(device, form.cleaned_data["code"])
            if codes is not None:
                attempt.succeeded()
                _verified(request, device)
                request.session[RECOVERY_CODES_SESSION_KEY] = codes
                # Set up while signing in: the codes page continues to where the sign-in was
                # going (or the user's landing page); opted into later: back to the overview.
                target = reverse("two_factor_recovery_codes")
                if signing_in or request.POST.get("next"):
                    target = f"{target}?{urlencode({'next': _next_url(request)})}"
                return redirect(target)
            form.add_error(
                "code", _("That code does not match. Enter the newest code the app shows.")
            )
        status = 400
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "qr_code": two_factor.qr_code_svg(device),
            "secret": two_factor.secret_text(device),
            "next": request.GET.get("next", request.POST.get("next", "")),
            "required": _owes_code(user),
        },
        status=status,
    )


@login_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes, shown once: right after set-up, or made again here (POST)."""
    if not two_factor.is_verified(request.user):
        return redirect("two_factor")
    if request.method == "POST":
        request.session[RECOVERY_CODES_SESSION_KEY] = two_factor.new_recovery_codes(_user(request))
        return redirect("two_factor_recovery_codes")
    codes = request.session.pop(RECOVERY_CODES_SESSION_KEY, None)
    response = render(
        request,
        "registration/two_factor_codes.html",
        {
            "codes": codes,
            "left": two_factor.recovery_codes_left(_user(request)),
            "next": _next_url(request) if request.GET.get("next") else "",
        },
    )
    response["Cache-Control"] = "no-store, private"
    return response


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """Two-step sign-in for this account: on or off, and what can be done about it."""
    user = _user(request)
    return render(
        request,
        "registration/two_factor.html",
        {
            "enrolled": two_factor.has_authenticator(user),
            "verified": two_factor.is_verified(user),
            "left": two_factor.recovery_codes_left(user),
            "may_turn_off": not (two_factor.staff_policy_on() and has_staff_role(user)),
        },
    )


@require_POST
@login_required
def turn_off(request: HttpRequest) -> HttpResponse:
    try:
        two_factor.turn_off(_user(request), now=timezone.now())
    except two_factor.CannotTurnOff as error:
        messages.error(request, str(error))
        return redirect("two_factor")
    messages.success(request, _("Two-step sign-in is off. Your password alone signs you in."))
    return redirect("two_factor")
