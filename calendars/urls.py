"""Calendar feeds: the secret feed URL and the buttons that make or turn off one."""

from django.urls import path

from calendars import views

urlpatterns = [
    path("calendars/<str:token>.ics", views.feed, name="calendar_feed"),
    path("my/details/calendar/", views.patient_feed, name="patient_calendar_feed"),
    path("staff/my-day/calendar/", views.provider_feed, name="provider_calendar_feed"),
]
