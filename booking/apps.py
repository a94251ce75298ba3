from django.apps import AppConfig


class BookingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "booking"

    def ready(self):
        from django.db.models.signals import post_migrate

        from booking.roles import grant_role_permissions

        post_migrate.connect(grant_role_permissions, sender=self)
