"""Patient accounts: sign up (confirmed by email), sign in, sign out and password reset.

No answer tells whether an email has an account: sign-up always says "check your email" (a
new or still waiting address gets a link to choose a password, a known one, active or
deactivated, a "you already have an account" note, each one email sent the same way), password
reset always says the same, and a wrong password reads like an unknown email. The rules of
sign-up (what a second request may change, when it expires, that only a waiting sign-up
activates) live in booking.services.signups.
Failed sign-ins are rate limited per IP and per account, sign-ups per IP.
"""

from datetime import UTC

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlencode, urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts import landing, login_codes, tokens, two_factor
from accounts.forms import (
    ChoosePasswordForm,
    ConfirmEmailForm,
    EmailCodeForm,
    RequestCodeForm,
    SignInForm,
    SignUpForm,
)
from accounts.ratelimit import SignInAttempt, over_limit, too_many_requests
from booking import services
from notifications import sms


class ActivationTokenGenerator(PasswordResetTokenGenerator):
    """One-time links: the token covers last_login, which changes when the link signs in, and
    the start of the waiting sign-up, so a sign-up started over kills the older links. The
    salt keeps its old module path (links are not interchangeable with password resets)."""

    key_salt = "booking.views.accounts.ActivationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        started = services.sign_up_started_at(user)
        waiting = started.astimezone(UTC).isoformat() if started else ""
        return f"{super()._make_hash_value(user, timestamp)}{waiting}"


activation_tokens = ActivationTokenGenerator()


def _send(request, template: str, user, **extra) -> None:
    """Every sign-up email goes this one way: a subject and a plain-text body, sent now."""
    context = {"user": user, "site": request.build_absolute_uri("/").rstrip("/"), **extra}
    subject = render_to_string(f"registration/{template}_subject.txt", context).strip()
    body = render_to_string(f"registration/{template}_email.txt", context)
    send_mail(subject, body, None, [user.email])


def _activation_link(request, user) -> str:
    path = reverse(
        "account_activate",
        args=[urlsafe_base64_encode(force_bytes(user.pk)), activation_tokens.make_token(user)],
    )
    return request.build_absolute_uri(path)


def send_booking_welcome(request, user) -> None:
    """After a new patient's booking: confirm the address (and, if they like, a password)."""
    _send(request, "booking_welcome", user, link=_activation_link(request, user))


CODE_EMAIL = "sign_in_code_email"  # the session key of the address a sign-in code went to


def send_login_code(
    request, email: str, *, by_sms: bool = False, draft_token: str | None = None
) -> None:
    """Send a one-time sign-in code (accounts.login_codes) if `email` has a patient account:
    by email, or by SMS to a patient who agreed to texts (a text names no treatment); the
    emailed one links back to the booking being made. The address is remembered either way
    and the page answers the same, so nobody learns whether it has an account."""
    request.session[CODE_EMAIL] = email
    user = services.account_for_email(email)
    if user is None or not login_codes.may_use_codes(user):
        return
    if not user.is_active and services.pending_sign_up(user, now=timezone.now()) is None:
        return  # deactivated by staff
    patient = getattr(user, "patient", None)
    if by_sms and patient is not None and patient.sms_consent and patient.phone:
        code = login_codes.issue_code(user)
        sms.get_backend().send(
            sms.SMSMessage(to=str(patient.phone), body=f"Your skinclinic sign-in code: {code}")
        )
        return
    resume = (
        request.build_absolute_uri(reverse("book_continue", args=[draft_token]))
        if draft_token
        else ""
    )
    _send(request, "login_code", user, code=login_codes.issue_code(user), resume=resume)


def signed_in_with_code(request, code: str) -> bool:
    """Sign in the account the last code went to, if `code` is right. An account still
    waiting for its sign-up link is confirmed by it (the code proves the mailbox)."""
    user = services.account_for_email(request.session.get(CODE_EMAIL) or "")
    if user is None or not login_codes.check_code(user, code):
        return False
    if not user.is_active:
        try:
            services.complete_sign_up(user, now=timezone.now())
        except services.SignUpClosed:
            return False
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.pop(CODE_EMAIL, None)
    return True


def code_steps(request, *, again: str, done, draft_token: str | None = None, email=True):
    """The two steps of signing in with a one-time code, for every door that offers them:
    ask for a code (counted as a sign-up attempt) and type it (counted as a sign-in). Returns
    the two forms and the response to give, or None to show the forms again: `again` after a
    code is sent, `done()` once signed in. `email` False: no code was asked for yet."""
    ask = RequestCodeForm(request.POST if "email" in request.POST else None)
    code_form = EmailCodeForm(request.POST if "code" in request.POST else None)
    response = None
    if request.method == "POST" and ask.is_bound:
        if over_limit(request, "sign-up"):
            response = too_many_requests(request, "sign-up")
        elif ask.is_valid():
            send_login_code(
                request,
                ask.cleaned_data["email"],
                by_sms="sms" in request.POST,
                draft_token=draft_token,
            )
            response = redirect(again)
    elif request.method == "POST" and code_form.is_bound and email:
        if over_limit(request, "sign-in"):
            response = too_many_requests(request, "sign-in")
        elif code_form.is_valid() and signed_in_with_code(request, code_form.cleaned_data["code"]):
            response = redirect(done())
        else:
            code_form.add_error(
                "code", _("That code is not right or has expired. Ask for a new one.")
            )
    return ask, code_form, response


def code_sign_in(request):
    """Sign in without a password: a 6-digit code by email (or SMS), then your landing page."""
    ask, code_form, response = code_steps(
        request, again="code_sign_in", done=lambda: landing.after_sign_in_url(request)
    )
    if response is not None:
        return response
    return render(
        request,
        "registration/code_sign_in.html",
        {"ask_form": ask, "code_form": code_form, "code_email": request.session.get(CODE_EMAIL)},
        status=400 if code_form.errors or (ask.is_bound and not ask.is_valid()) else 200,
    )


def sign_up(request):
    form = SignUpForm(request.POST or None)
    if request.method == "POST":
        if over_limit(request, "sign-up"):
            return too_many_requests(request, "sign-up")
        if form.is_valid():
            result = services.start_sign_up(now=timezone.now(), **form.cleaned_data)
            if result.sends_link:
                link = _activation_link(request, result.user)
                _send(request, "activation", result.user, link=link)
            else:
                _send(
                    request,
                    "account_exists",
                    result.user,
                    login_url=request.build_absolute_uri(reverse("login")),
                    reset_url=request.build_absolute_uri(reverse("password_reset")),
                )
            return redirect("sign_up_sent")
    return render(
        request,
        "registration/sign_up.html",
        {"form": form, "next": request.GET.get("next", "")},
        status=400 if form.is_bound else 200,
    )


def sign_up_sent(request):
    return render(request, "registration/sign_up_sent.html")


def activate(request, uidb64, token):
    """The emailed link: confirm the address (a password is optional), then you are signed
    in. Only a sign-up still waiting for its link opens; a deactivated account never does,
    whatever the link. Opening the link (GET) changes nothing: mail scanners open links."""
    user = _user_from_link(uidb64)
    if (
        user is None
        or services.pending_sign_up(user, now=timezone.now()) is None
        or not activation_tokens.check_token(user, token)
    ):
        return _link_closed(request)
    form = ConfirmEmailForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.complete_sign_up(form.save(commit=False), now=timezone.now())
        except services.SignUpClosed:
            return _link_closed(request)  # a second tab used the link a moment ago
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome! Your account is ready."))
        return redirect(landing.after_sign_in_url(request))
    return render(request, "registration/activate.html", {"form": form})


def _link_closed(request):
    return render(request, "registration/activate_invalid.html", status=400)


def _user_from_link(uidb64: str):
    try:
        pk = urlsafe_base64_decode(uidb64).decode()
        return get_user_model().objects.get(pk=pk)
    except (ValueError, TypeError, OverflowError, get_user_model().DoesNotExist):
        return None


class SignInView(auth_views.LoginView):
    """Django's sign-in, refusing an address or an account with too many recent failures."""

    form_class = SignInForm
    template_name = "registration/login.html"

    def post(self, request, *args, **kwargs):
        self.attempt = SignInAttempt(request, request.POST.get("username", ""))
        if self.attempt.refused():
            return self.attempt.too_many(request)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        """The password was right (the try is given back); staff, and anyone who turned
        two-step sign-in on, go on to the second step (accounts.middleware holds every other
        page until it is done), whose codes are counted as sign-ins too."""
        self.attempt.succeeded()
        response = super().form_valid(form)
        user = form.get_user()
        if two_factor.needs_second_factor(user):
            step = reverse(two_factor.second_step_url_name(user))
            return redirect(f"{step}?{urlencode({'next': self.get_success_url()})}")
        return response

    def get_success_url(self):
        """The `next` page when it is safe and the user may open it, else their landing page
        (accounts.landing). The form keeps the `next` it was given (get_redirect_url)."""
        return landing.after_sign_in_url(self.request, self.get_redirect_url())


sign_in = SignInView.as_view()
sign_out = auth_views.LogoutView.as_view()


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset (the same answer for every email), counted like sign-ups."""

    template_name = "registration/password_reset.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def post(self, request, *args, **kwargs):
        if over_limit(request, "sign-up"):
            return too_many_requests(request, "sign-up")
        return super().post(request, *args, **kwargs)


password_reset = PasswordResetView.as_view()
password_reset_done = auth_views.PasswordResetDoneView.as_view(
    template_name="registration/password_reset_sent.html"
)
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="registration/password_reset_confirm.html",
    form_class=ChoosePasswordForm,
    success_url=reverse_lazy("password_reset_complete"),
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="registration/password_reset_complete.html"
)


@login_required
def api_tokens(request):
    """The apps and devices signed in to the account through the API, each revocable."""
    if request.method == "POST":
        key = request.POST.get("revoke", "")
        if key == "all":
            count = tokens.revoke_all_tokens(request.user)
            messages.success(
                request, _("Signed out of %(count)s app(s) and device(s).") % {"count": count}
            )
        elif key and tokens.revoke_token(request.user, key):
            messages.success(request, _("That app or device is signed out."))
        else:
            messages.error(request, _("That token was already revoked or has expired."))
        return redirect("account_tokens")
    return render(request, "accounts/tokens.html", {"tokens": tokens.live_tokens(request.user)})
