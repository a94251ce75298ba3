from django.apps import AppConfig


class SkinclinicConfig(AppConfig):
    """The project package as an app, so its system checks (checks.py) are registered."""

    name = "skinclinic"
    verbose_name = "skinclinic"

    def ready(self) -> None:
        # checks registers the system checks; languages remembers a patient's language at sign-in.
        from . import checks, languages  # noqa: F401
