from django.apps import AppConfig


class ConsentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "consent"
    verbose_name = "consent forms"

    def ready(self) -> None:
        from booking import events
        from consent import services

        events.appointment_completed.connect(
            services.on_completed, dispatch_uid="consent.completed"
        )
