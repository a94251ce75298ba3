"""The outbox's pages: the confirm link from the reminder, Twilio's inbound webhook, the mail
provider's bounce webhook (django-anymail), and the front desk's failed messages."""

from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from django.urls import path

from notifications import views

urlpatterns = [
    path("visits/confirm/<str:token>/", views.visit_confirm, name="visit_confirm"),
    path("sms/inbound/", views.sms_inbound, name="sms_inbound"),
    path("sms/status/", views.sms_status, name="sms_status"),
    # Only the providers we configure (settings.MAIL_PROVIDER): anymail.urls would add every
    # provider's, and those with no secret of their own would take unchecked requests.
    path(
        "anymail/mailgun/tracking/",
        MailgunTrackingWebhookView.as_view(),
        name="mailgun_tracking_webhook",
    ),
    path(
        "anymail/postmark/tracking/",
        PostmarkTrackingWebhookView.as_view(),
        name="postmark_tracking_webhook",
    ),
    path("staff/messages/failed/", views.failed_messages, name="failed_messages"),
    path("staff/messages/<int:pk>/retry/", views.retry_message, name="retry_message"),
]
