"""`manage.py demo_code USER`: the current two-step sign-in code of a demo staff account.

Only for the demo accounts seed_demo makes (their authenticator is the published demo secret);
a real authenticator's code is never printed.
"""

import time
from base64 import b32decode

from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from desk.management.commands.seed_demo import DEMO_DEVICE_NAME, DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the current sign-in code of a demo staff account (seed_demo's authenticator)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **options):
        device = TOTPDevice.objects.filter(
            user__username=options["username"],
            name=DEMO_DEVICE_NAME,
            key=b32decode(DEMO_TOTP_SECRET).hex(),
            confirmed=True,
        ).first()
        if device is None:
            raise CommandError(
                f"{options['username']!r} has no demo authenticator (only seed_demo's staff do)."
            )
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time()
        left = device.step - int(totp.time - device.t0) % device.step
        self.stdout.write(f"{totp.token():0{device.digits}d}  (for {left} more seconds)")
