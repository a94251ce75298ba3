"""Accounts: sign in and out (with the two-step code), sign up (confirmed by email), password
reset."""

from django.urls import path

from accounts import two_factor_views, views

urlpatterns = [
    path("accounts/login/", views.sign_in, name="login"),
    path("accounts/code/", views.code_sign_in, name="code_sign_in"),
    path("accounts/logout/", views.sign_out, name="logout"),
    path("accounts/two-factor/", two_factor_views.overview, name="two_factor"),
    path("accounts/two-factor/verify/", two_factor_views.verify, name="two_factor_verify"),
    path("accounts/two-factor/set-up/", two_factor_views.setup, name="two_factor_setup"),
    path(
        "accounts/two-factor/recovery-codes/",
        two_factor_views.recovery_codes,
        name="two_factor_recovery_codes",
    ),
    path("accounts/two-factor/turn-off/", two_factor_views.turn_off, name="two_factor_turn_off"),
    path("accounts/tokens/", views.api_tokens, name="account_tokens"),
    path("accounts/sign-up/", views.sign_up, name="sign_up"),
    path("accounts/sign-up/sent/", views.sign_up_sent, name="sign_up_sent"),
    path("accounts/activate/<uidb64>/<token>/", views.activate, name="account_activate"),
    path("accounts/password-reset/", views.password_reset, name="password_reset"),
    path(
        "accounts/password-reset/sent/",
        views.password_reset_done,
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        views.password_reset_complete,
        name="password_reset_complete",
    ),
]
