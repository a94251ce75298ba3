from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "payments"
    verbose_name = "payments"

    def ready(self):
        from payments import receivers

        receivers.connect()
