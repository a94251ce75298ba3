from django.apps import AppConfig


class SkinclinicConfig(AppConfig):
    """The project itself, as an app without models: it registers the deployment checks."""

    name = "skinclinic"

    def ready(self):
        from skinclinic import checks  # noqa: F401  (registers them)
