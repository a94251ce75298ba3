"""Patient accounts: sign up (confirmed by email), sign in, sign out and password reset.

No answer tells whether an email has an account: sign-up always says "check your email" (a
new address gets a link to choose a password, a known one a "you already have an account"
note), password reset always says the same, and a wrong password reads like an unknown email.
Failed sign-ins are rate limited per IP and per account, sign-ups per IP.
"""

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from accounts import tokens
from accounts.forms import ChoosePasswordForm, SignInForm, SignUpForm
from accounts.ratelimit import SignInAttempt, over_limit, too_many_requests
from booking import services


class ActivationTokenGenerator(PasswordResetTokenGenerator):
    """One-time links: the token covers last_login, which changes when the link signs in.
    The salt keeps its old module path so links already emailed still work."""

    key_salt = "booking.views.accounts.ActivationTokenGenerator"


activation_tokens = ActivationTokenGenerator()
BOOKING_DRAFT = "booking_draft"


def _after_sign_in(request) -> str:
    return (
        reverse("book_review") if request.session.get(BOOKING_DRAFT) else reverse("my_appointments")
    )


def _existing_user(email: str):
    return (
        get_user_model()
        .objects.filter(Q(username__iexact=email) | Q(email__iexact=email))
        .order_by("pk")
        .first()
    )


def _send(request, template: str, user, **extra) -> None:
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


def sign_up(request):
    form = SignUpForm(request.POST or None)
    if request.method == "POST":
        if over_limit(request, "sign-up"):
            return too_many_requests(request, "sign-up")
        if form.is_valid():
            data = form.cleaned_data
            user = _existing_user(data["email"])
            if user is not None and user.is_active:
                _send(
                    request,
                    "account_exists",
                    user,
                    login_url=request.build_absolute_uri(reverse("login")),
                    reset_url=request.build_absolute_uri(reverse("password_reset")),
                )
            else:
                user = _create_or_refresh_pending(data, user)
                _send(request, "activation", user, link=_activation_link(request, user))
            return redirect("sign_up_sent")
    return render(
        request,
        "registration/sign_up.html",
        {"form": form, "next": request.GET.get("next", "")},
        status=400 if form.is_bound else 200,
    )


@transaction.atomic
def _create_or_refresh_pending(data: dict, user):
    """A new account waits, inactive and without a password, until its email link is used.
    Signing up again before that refreshes the details on the waiting account."""
    if user is None:
        user = get_user_model().objects.create_user(
            username=data["email"], email=data["email"], is_active=False
        )
    user.first_name, user.last_name = data["first_name"], data["last_name"]
    user.save(update_fields=["first_name", "last_name"])
    services.record_sign_up(
        user,
        now=timezone.now(),
        **{field: data[field] for field in services.SIGN_UP_FIELDS},
    )
    return user


def sign_up_sent(request):
    return render(request, "registration/sign_up_sent.html")


def activate(request, uidb64, token):
    """The emailed link: choose a password, then you are signed in."""
    user = _user_from_link(uidb64)
    if user is None or not activation_tokens.check_token(user, token):
        return render(request, "registration/activate_invalid.html", status=400)
    form = ChoosePasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save(commit=False)
            user.is_active = True
            user.save()
            services.link_online_account(user, now=timezone.now())
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome! Your account is ready.")
        return redirect(_after_sign_in(request))
    return render(request, "registration/activate.html", {"form": form})


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
        self.attempt.succeeded()
        return super().form_valid(form)

    def get_default_redirect_url(self):
        return _after_sign_in(self.request)


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
            messages.success(request, f"Signed out of {count} app(s) and device(s).")
        elif key and tokens.revoke_token(request.user, key):
            messages.success(request, "That app or device is signed out.")
        else:
            messages.error(request, "That token was already revoked or has expired.")
        return redirect("account_tokens")
    return render(request, "accounts/tokens.html", {"tokens": tokens.live_tokens(request.user)})
