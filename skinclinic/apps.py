from django.apps import AppConfig


class SkinclinicConfig(AppConfig):
    """The project package as an app, so its system checks (checks.py) are registered."""

    name = "skinclinic"
    verbose_name = "skinclinic"

    def ready(self) -> None:
        from . import checks  # noqa: F401 (registers the checks)
