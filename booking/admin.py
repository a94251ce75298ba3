from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from . import services
from .forms import AppointmentAdminForm
from .models import (
    Appointment,
    AuditEntry,
    Location,
    Notification,
    Patient,
    Provider,
    ReminderPolicy,
    Room,
    ScreeningAnswer,
    TimeOff,
    TreatmentPlan,
    WorkingHours,
)


class RoomInline(admin.TabularInline):
    model = Room
    extra = 0
    filter_horizontal = ["treatments"]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "phone", "cancellation_notice_hours"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [RoomInline]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "location", "is_active"]
    list_filter = ["location"]
    filter_horizontal = ["treatments"]


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["display_name", "title", "is_active"]
    filter_horizontal = ["locations", "treatments"]
    inlines = [WorkingHoursInline]
    search_fields = ["display_name"]


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ["provider", "location", "weekday", "start_time", "end_time"]
    list_filter = ["location", "weekday"]


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ["provider", "start", "end", "reason"]
    list_filter = ["provider"]


class ScreeningAnswerInline(admin.TabularInline):
    model = ScreeningAnswer
    extra = 0


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "email", "phone", "cleared_for_protocols"]
    search_fields = ["last_name", "first_name", "email", "phone"]
    inlines = [ScreeningAnswerInline]
    raw_id_fields = ["user"]


@admin.register(ScreeningAnswer)
class ScreeningAnswerAdmin(admin.ModelAdmin):
    list_display = ["patient", "rule", "yes", "last_occurred", "answered_at"]
    raw_id_fields = ["patient"]


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(admin.ModelAdmin):
    list_display = ["patient", "treatment", "location", "sessions", "status", "first_date"]
    list_filter = ["status", "treatment", "location"]
    raw_id_fields = ["patient"]


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["start", "patient", "treatment", "provider", "room", "status", "kind"]
    list_filter = ["status", "location", "provider", "kind"]
    list_select_related = ["patient", "treatment", "provider", "room"]
    raw_id_fields = ["patient", "plan"]
    date_hierarchy = "start"
    readonly_fields = ["end", "provider_start", "held_until", "created_at", "updated_at"]
    fields = [
        "patient",
        "treatment",
        "location",
        "provider",
        "room",
        "start",
        "end",
        "provider_start",
        "held_until",
        "status",
        "kind",
        "plan",
        "session_number",
        "out_of_window_reason",
        "cancellation_reason",
        "late_cancellation",
        "notes",
        "created_at",
        "updated_at",
    ]

    form = AppointmentAdminForm

    def save_model(self, request, obj, form, change):
        services.record_admin_save(obj, actor=request.user, changed=form.changed_data)

    def changeform_view(self, request, *args, **kwargs):
        # The form refuses overlaps; only a save racing another one reaches the database's
        # constraint, and that deserves a message, not an error page.
        try:
            return super().changeform_view(request, *args, **kwargs)
        except services.SlotTaken as error:
            self.message_user(request, f"Not saved: {error}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "action", "patient", "appointment", "reason"]
    list_filter = ["action"]
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
