"""Pending sign-ups become a row of their own, so an account staff deactivated can never be
mistaken for one (issue 12, item 1).

Accounts already waiting for their link at deploy time are carried over, judged once and
narrowly: inactive, never signed in, no usable password, no staff flag, group or permission,
and the patient record sign-up made. They keep their date joined as the start, so they expire
on schedule. Every other inactive account counts as deactivated. Links emailed before this
migration stop working (the link now covers the sign-up's start); a second sign-up re-sends.
"""

import django.db.models.deletion
from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import migrations, models


def carry_over_waiting_sign_ups(apps, schema_editor):
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    PendingSignUp = apps.get_model("booking", "PendingSignUp")
    waiting = User.objects.filter(
        is_active=False,
        is_staff=False,
        is_superuser=False,
        last_login__isnull=True,
        password__startswith=UNUSABLE_PASSWORD_PREFIX,
        groups__isnull=True,
        user_permissions__isnull=True,
        patient__isnull=False,
    ).values_list("pk", "date_joined")
    PendingSignUp.objects.bulk_create(
        PendingSignUp(user_id=pk, started_at=joined) for pk, joined in waiting.distinct()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("booking", "0008_patient_no_overlap"),
    ]

    operations = [
        migrations.CreateModel(
            name="PendingSignUp",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="pending_sign_up",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("started_at", models.DateTimeField()),
            ],
        ),
        migrations.RunPython(carry_over_waiting_sign_ups, migrations.RunPython.noop),
    ]
