"""Send due reminders without Celery: once, or in a loop (what `make run` starts)."""

import time

from django.core.management.base import BaseCommand

from notifications import dispatch


class Command(BaseCommand):
    help = "Send the messages in the outbox that are due."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep going until stopped.")
        parser.add_argument("--every", type=float, default=30, help="Seconds between sweeps.")

    def handle(self, *args, loop: bool, every: float, **options):
        while True:
            counts = dispatch.dispatch_due()
            if counts:
                summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
                self.stdout.write(f"Messages: {summary}")
            if not loop:
                return
            try:
                time.sleep(every)
            except KeyboardInterrupt:
                return
