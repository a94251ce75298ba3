from django.contrib import admin

from notifications.models import Notification, ReminderPolicy


@admin.register(ReminderPolicy)
class ReminderPolicyAdmin(admin.ModelAdmin):
    list_display = ["location", "long_reminder_hours", "short_reminder_hours", "quiet_hours_start"]
    fieldsets = [
        (None, {"fields": ["location"]}),
        (
            "Timing",
            {
                "fields": [
                    "long_reminder_hours",
                    "short_reminder_hours",
                    "aftercare_delay_minutes",
                    "window_closing_days",
                    "quiet_hours_start",
                    "quiet_hours_end",
                ]
            },
        ),
        (
            "Messages sent",
            {
                "fields": [
                    "send_confirmation",
                    "send_reminder_long",
                    "send_reminder_short",
                    "send_aftercare",
                    "send_next_session",
                    "send_window_closing",
                    "send_maintenance_recall",
                    "send_waitlist_offer",
                    "send_cancelled",
                    "send_rescheduled",
                ]
            },
        ),
    ]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox, read-only: rows are written by the services and the dispatcher."""

    list_display = ["due_at", "kind", "channel", "patient", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind", "channel"]
    search_fields = ["key", "patient__last_name", "patient__email"]
    date_hierarchy = "due_at"
    list_select_related = ["patient"]
    readonly_fields = [field.name for field in Notification._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
