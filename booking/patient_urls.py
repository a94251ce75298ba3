"""Patient-facing pages: locations, the booking flow (/book/), the portal (/my/), accounts."""

from django.urls import path

from booking.views import accounts, patient

urlpatterns = [
    path("locations/", patient.locations, name="locations"),
    path("book/", patient.book_start, name="book_start"),
    path("book/screening/", patient.book_screening, name="book_screening"),
    path("book/not-now/", patient.book_not_now, name="book_not_now"),
    path("book/consultation-first/", patient.book_consult_first, name="book_consult_first"),
    path("book/offer-consultation/", patient.book_consultation, name="book_consultation"),
    path("book/account/", patient.book_account, name="book_account"),
    path("book/review/", patient.book_review, name="book_review"),
    path("book/done/<int:pk>/", patient.book_done, name="book_done"),
    path("book/<slug:slug>/", patient.book_location, name="book_location"),
    path("book/<slug:slug>/<slug:location_slug>/", patient.book_provider, name="book_provider"),
    path("book/<slug:slug>/<slug:location_slug>/times/", patient.book_times, name="book_times"),
    path("my/", patient.my_appointments, name="my_appointments"),
    path("my/details/", patient.my_details, name="my_details"),
    path("my/visits/<int:pk>/", patient.visit_detail, name="visit_detail"),
    path("my/visits/<int:pk>/calendar.ics", patient.visit_ics, name="visit_ics"),
    path("my/visits/<int:pk>/cancel/", patient.visit_cancel, name="visit_cancel"),
    path("my/visits/<int:pk>/reschedule/", patient.visit_reschedule, name="visit_reschedule"),
    path("my/plans/<int:pk>/next/", patient.plan_next, name="plan_next"),
    path("accounts/login/", accounts.sign_in, name="login"),
    path("accounts/logout/", accounts.sign_out, name="logout"),
    path("accounts/sign-up/", accounts.sign_up, name="sign_up"),
    path("accounts/sign-up/sent/", accounts.sign_up_sent, name="sign_up_sent"),
    path("accounts/activate/<uidb64>/<token>/", accounts.activate, name="account_activate"),
    path("accounts/password-reset/", accounts.password_reset, name="password_reset"),
    path(
        "accounts/password-reset/sent/",
        accounts.password_reset_done,
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        accounts.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        accounts.password_reset_complete,
        name="password_reset_complete",
    ),
]
