"""The two tables accounts keeps: the device of each API token and sign-in counters for when
the cache is down. Patients, staff and their roles live in django.contrib.auth and booking."""

from django.db import models
from knox.models import AuthToken


class TokenDevice(models.Model):
    """The device an API token was made for (django-rest-knox's AuthToken keeps only a SHA-512
    digest of the token, its first characters as `token_key`, and its expiry). Goes with its
    token."""

    token = models.OneToOneField(
        AuthToken, on_delete=models.CASCADE, primary_key=True, related_name="device"
    )
    name = models.CharField(
        max_length=200, blank=True, help_text="The device or app, as it named itself."
    )

    def __str__(self) -> str:
        return self.name or "unnamed device"


class SignInCounter(models.Model):
    """Failed sign-ins in one window, counted in the database while the cache (Redis) cannot
    be reached, so that an outage does not lift the limit. `key` names the scope, the IP or
    account and the window; `expires_at` is a Unix time after which the row can go."""

    key = models.CharField(max_length=200, primary_key=True)
    count = models.IntegerField(default=0)
    expires_at = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
