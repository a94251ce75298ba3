"""Patient-facing pages: locations, the booking flow (/book/) and the portal (/my/).
(Sign-in and sign-up: accounts/urls.py.)"""

from django.urls import path

from portal.views import booking_flow as flow
from portal.views import my, times

urlpatterns = [
    path("locations/", times.locations, name="locations"),
    path("book/", flow.book_start, name="book_start"),
    path("book/screening/", flow.book_screening, name="book_screening"),
    path("book/not-now/", flow.book_not_now, name="book_not_now"),
    path("book/consultation-first/", flow.book_consult_first, name="book_consult_first"),
    path("book/offer-consultation/", flow.book_consultation, name="book_consultation"),
    path("book/account/", flow.book_account, name="book_account"),
    path("book/continue/<str:token>/", flow.book_continue, name="book_continue"),
    path("book/review/", flow.book_review, name="book_review"),
    path("book/done/<int:pk>/", flow.book_done, name="book_done"),
    path("book/<slug:slug>/", flow.book_location, name="book_location"),
    path("book/<slug:slug>/<slug:location_slug>/", flow.book_provider, name="book_provider"),
    path("book/<slug:slug>/<slug:location_slug>/times/", flow.book_times, name="book_times"),
    path("my/", my.my_appointments, name="my_appointments"),
    path("my/details/", my.my_details, name="my_details"),
    path("my/visits/<int:pk>/", my.visit_detail, name="visit_detail"),
    path("my/visits/<int:pk>/calendar.ics", my.visit_ics, name="visit_ics"),
    path("my/visits/<int:pk>/cancel/", my.visit_cancel, name="visit_cancel"),
    path("my/visits/<int:pk>/reschedule/", my.visit_reschedule, name="visit_reschedule"),
    path("my/plans/<int:pk>/next/", my.plan_next, name="plan_next"),
]
