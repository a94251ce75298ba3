from django.apps import AppConfig


class PortalConfig(AppConfig):
    """What a patient does online: the locations page, booking (/book/) and "My
    appointments" (/my/). No models."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
