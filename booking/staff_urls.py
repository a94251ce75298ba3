"""The front desk's pages, mounted at /staff/ (names in the "desk" namespace)."""

from django.urls import path

from booking.views import staff

app_name = "desk"

urlpatterns = [
    path("", staff.calendar_view, name="home"),
    path("calendar/", staff.calendar_view, name="calendar"),
    path("book/", staff.book, name="book"),
    path("book/screening/", staff.book_screening, name="book_screening"),
    path("appointments/<int:pk>/", staff.appointment_detail, name="appointment"),
    path("appointments/<int:pk>/move/", staff.appointment_move, name="appointment_move"),
    path("appointments/<int:pk>/status/", staff.appointment_status, name="appointment_status"),
    path("appointments/<int:pk>/cancel/", staff.appointment_cancel, name="appointment_cancel"),
    path("patients/", staff.patient_list, name="patients"),
    path("patients/<int:pk>/", staff.patient_detail, name="patient"),
    path("patients/<int:pk>/edit/", staff.patient_edit, name="patient_edit"),
    path("patients/<int:pk>/plans/new/", staff.plan_new, name="plan_new"),
    path("plans/overdue/", staff.plans_overdue, name="plans_overdue"),
    path("plans/<int:pk>/", staff.plan_detail, name="plan"),
    path("plans/<int:pk>/book-remaining/", staff.plan_book_remaining, name="plan_book_remaining"),
    path("waitlist/", staff.waitlist_view, name="waitlist"),
    path("waitlist/<int:pk>/", staff.waitlist_update, name="waitlist_update"),
]
