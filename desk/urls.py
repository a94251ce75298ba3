"""The front desk's pages, mounted at /staff/ (names in the "desk" namespace)."""

from django.urls import path

from desk.views import appointments, booking, calendar, call_backs, patients, plans, waitlist

app_name = "desk"

urlpatterns = [
    path("", calendar.calendar_view, name="home"),
    path("calendar/", calendar.calendar_view, name="calendar"),
    path("book/", booking.book, name="book"),
    path("book/times/", booking.book_times, name="book_times"),
    path("book/screening/", booking.book_screening, name="book_screening"),
    path("appointments/<int:pk>/", appointments.appointment_detail, name="appointment"),
    path("appointments/<int:pk>/move/", appointments.appointment_move, name="appointment_move"),
    path(
        "appointments/<int:pk>/status/",
        appointments.appointment_status,
        name="appointment_status",
    ),
    path(
        "appointments/<int:pk>/cancel/",
        appointments.appointment_cancel,
        name="appointment_cancel",
    ),
    path("patients/", patients.patient_list, name="patients"),
    path("patients/<int:pk>/", patients.patient_detail, name="patient"),
    path("patients/<int:pk>/edit/", patients.patient_edit, name="patient_edit"),
    path("patients/<int:pk>/plans/new/", plans.plan_new, name="plan_new"),
    path("plans/overdue/", plans.plans_overdue, name="plans_overdue"),
    path("plans/<int:pk>/", plans.plan_detail, name="plan"),
    path("plans/<int:pk>/book-remaining/", plans.plan_book_remaining, name="plan_book_remaining"),
    path("waitlist/", waitlist.waitlist_view, name="waitlist"),
    path("call-backs/", call_backs.call_back_list, name="call_backs"),
    path("call-backs/<int:pk>/done/", call_backs.call_back_done, name="call_back_done"),
    path("waitlist/<int:pk>/", waitlist.waitlist_update, name="waitlist_update"),
]
