from django.apps import AppConfig


class DeskConfig(AppConfig):
    """The front desk's pages at /staff/ (no models): they call booking.services and render."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "desk"
