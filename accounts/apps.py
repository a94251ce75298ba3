from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    """Sign-up, sign-in and password reset, the clinic's roles, the rate limits (per IP and per
    account) and the API tokens. Its two small models: the device of each API token, and the
    sign-in counters used while Redis is down."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self):
        from accounts.roles import grant_role_permissions

        # post_migrate is only sent for apps with models, so listen for booking's: by then
        # migrate has created the permissions on booking's models that the roles are given.
        post_migrate.connect(grant_role_permissions, sender=apps.get_app_config("booking"))
