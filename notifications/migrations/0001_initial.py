"""Notification and ReminderPolicy, taken over from booking (its migration 0007) on the same
tables: state only, no data moves."""

import datetime

import django.db.models.deletion
from django.db import migrations, models


def move_content_types(apps, schema_editor):
    """Keep the admin permissions granted on the outbox models: same rows, new app label."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(
        app_label="booking", model__in=["notification", "reminderpolicy"]
    ).update(app_label="notifications")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("booking", "0007_outbox_moves_to_notifications"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ReminderPolicy",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("long_reminder_hours", models.PositiveIntegerField(default=48)),
                        ("short_reminder_hours", models.PositiveIntegerField(default=2)),
                        ("aftercare_delay_minutes", models.PositiveIntegerField(default=60)),
                        (
                            "window_closing_days",
                            models.PositiveIntegerField(
                                default=7,
                                help_text="Warn this many days before an unbooked session's window closes.",
                            ),
                        ),
                        ("send_confirmation", models.BooleanField(default=True)),
                        ("send_reminder_long", models.BooleanField(default=True)),
                        ("send_reminder_short", models.BooleanField(default=True)),
                        ("send_aftercare", models.BooleanField(default=True)),
                        ("send_next_session", models.BooleanField(default=True)),
                        ("send_window_closing", models.BooleanField(default=True)),
                        ("send_maintenance_recall", models.BooleanField(default=True)),
                        ("send_waitlist_offer", models.BooleanField(default=True)),
                        ("send_cancelled", models.BooleanField(default=True)),
                        ("send_rescheduled", models.BooleanField(default=True)),
                        (
                            "quiet_hours_start",
                            models.TimeField(
                                default=datetime.time(21, 0),
                                help_text="No SMS from this local time (except the short reminder).",
                            ),
                        ),
                        (
                            "quiet_hours_end",
                            models.TimeField(
                                default=datetime.time(8, 0), help_text="... until this local time."
                            ),
                        ),
                        (
                            "location",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="reminder_policy",
                                to="booking.location",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name_plural": "reminder policies",
                        "db_table": "booking_reminderpolicy",
                    },
                ),
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("key", models.CharField(max_length=200, unique=True)),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("confirmation", "Confirmation"),
                                    ("reminder_long", "Reminder (long)"),
                                    ("reminder_short", "Reminder (short)"),
                                    ("aftercare", "Aftercare"),
                                    ("next_session", "Book your next session"),
                                    ("window_closing", "Window closing"),
                                    ("maintenance_recall", "Maintenance recall"),
                                    ("waitlist_offer", "Waitlist offer"),
                                    ("cancelled", "Cancellation notice"),
                                    ("rescheduled", "Reschedule notice"),
                                ],
                                max_length=20,
                            ),
                        ),
                        (
                            "channel",
                            models.CharField(
                                choices=[("email", "Email"), ("sms", "SMS")], max_length=5
                            ),
                        ),
                        ("session_number", models.PositiveSmallIntegerField(blank=True, null=True)),
                        (
                            "about_start",
                            models.DateTimeField(
                                blank=True,
                                help_text="The appointment start this message is about.",
                                null=True,
                            ),
                        ),
                        ("context", models.JSONField(blank=True, default=dict)),
                        ("due_at", models.DateTimeField()),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending"),
                                    ("sending", "Sending"),
                                    ("sent", "Sent"),
                                    ("failed", "Failed"),
                                    ("cancelled", "Cancelled"),
                                    ("skipped", "Skipped"),
                                ],
                                default="pending",
                                max_length=10,
                            ),
                        ),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("last_error", models.TextField(blank=True)),
                        ("claimed_until", models.DateTimeField(blank=True, null=True)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "appointment",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notifications",
                                to="booking.appointment",
                            ),
                        ),
                        (
                            "patient",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notifications",
                                to="booking.patient",
                            ),
                        ),
                        (
                            "plan",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notifications",
                                to="booking.treatmentplan",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "booking_notification",
                        "ordering": ["due_at"],
                        "indexes": [
                            models.Index(fields=["status", "due_at"], name="notification_claim"),
                            models.Index(
                                fields=["status", "claimed_until"], name="notification_lease"
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, migrations.RunPython.noop),
    ]
