"""The outbox's pages: the confirm link from the reminder, Twilio's inbound webhook, and the
front desk's failed messages."""

from django.urls import path

from notifications import views

urlpatterns = [
    path("visits/confirm/<str:token>/", views.visit_confirm, name="visit_confirm"),
    path("sms/inbound/", views.sms_inbound, name="sms_inbound"),
    path("sms/status/", views.sms_status, name="sms_status"),
    path("staff/messages/failed/", views.failed_messages, name="failed_messages"),
    path("staff/messages/<int:pk>/retry/", views.retry_message, name="retry_message"),
]
