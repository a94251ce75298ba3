from datetime import UTC, datetime

from django.conf import settings
from django.contrib import admin, messages
from django.db import models
from django.http import HttpResponseRedirect
from django.utils import timezone

from . import services
from .forms import AppointmentAdminForm, LocationAdminForm, PatientAdminForm
from .models import (
    Appointment,
    AuditEntry,
    ClosedDay,
    Hold,
    Location,
    Patient,
    Provider,
    Room,
    ScreeningAnswer,
    TimeOff,
    TreatmentPlan,
    WorkingHours,
)

# skinclinic.middleware.AdminTimeZoneMiddleware activates this zone for every admin page.
admin.site.site_header = f"skinclinic administration (times in {settings.CLINIC_TIME_ZONE})"


class LocalTimesAdmin(admin.ModelAdmin):
    """Says on each date-and-time field which zone the admin reads and shows it in."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and isinstance(db_field, models.DateTimeField):
            note = f"{settings.CLINIC_TIME_ZONE} time."
            formfield.help_text = f"{formfield.help_text} {note}".strip()
        return formfield


def _jsonable(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


def _audit_admin_edit(actor, obj, before, fields) -> None:
    """One audit entry for an admin write to a patient, plan or screening answer: each changed
    field as [before, after], before read from the database row as it was before the save."""
    patient = obj if isinstance(obj, Patient) else getattr(obj, "patient", None)
    plan = obj if isinstance(obj, TreatmentPlan) else None
    if fields is None:  # deleted
        changes = {"deleted": [str(before), None]}
    else:
        changes = {
            field: [
                _jsonable(getattr(before, field, None)) if before is not None else None,
                _jsonable(getattr(obj, field, None)),
            ]
            for field in fields
        }
    services.audit(
        actor=actor,
        action="edited_in_admin",
        patient=patient,
        plan=plan,
        reason=f"{obj._meta.verbose_name}: {before if fields is None else obj}"[:200],
        changes=changes,
        now=timezone.now(),
    )


class AuditedAdmin(admin.ModelAdmin):
    """Admin saves of patient records leave the same audit trail as the staff pages."""

    def save_model(self, request, obj, form, change):
        before = type(obj)._default_manager.get(pk=obj.pk) if change and obj.pk else None
        super().save_model(request, obj, form, change)
        if form.changed_data:
            _audit_admin_edit(request.user, obj, before, form.changed_data)

    def save_formset(self, request, form, formset, change):
        if formset.model is not ScreeningAnswer:
            return super().save_formset(request, form, formset, change)
        pks = [f.instance.pk for f in formset.initial_forms if f.instance.pk]
        befores = ScreeningAnswer._default_manager.select_related("rule").in_bulk(pks)
        deleted = [f.instance.pk for f in formset.deleted_forms if f.instance.pk]
        changed = [
            (f.instance, f.changed_data)
            for f in formset.forms
            if f.has_changed() and f not in formset.deleted_forms
        ]
        super().save_formset(request, form, formset, change)
        for pk in deleted:
            before = befores[pk]
            _audit_admin_edit(request.user, before, before, None)
        for instance, fields in changed:
            _audit_admin_edit(request.user, instance, befores.get(instance.pk), fields)


class RoomInline(admin.TabularInline):
    model = Room
    extra = 0
    filter_horizontal = ["treatments"]


class ClosedDayInline(admin.TabularInline):
    model = ClosedDay
    extra = 0


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    form = LocationAdminForm
    list_display = ["name", "time_zone", "country", "phone", "cancellation_notice_hours"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [RoomInline, ClosedDayInline]
    actions = ["add_federal_holidays"]

    @admin.action(description="Add US federal holidays for next year")
    def add_federal_holidays(self, request, queryset):
        year = timezone.localdate().year + 1
        added = services.add_us_federal_holidays(queryset, year=year)
        self.message_user(
            request,
            f"Added {added} closed day{'s' if added != 1 else ''} for {year} "
            "(days already closed were kept).",
            messages.SUCCESS,
        )


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
class TimeOffAdmin(LocalTimesAdmin):
    list_display = ["provider", "start", "end", "reason"]
    list_filter = ["provider"]


class ScreeningAnswerInline(admin.TabularInline):
    model = ScreeningAnswer
    extra = 0


@admin.register(Patient)
class PatientAdmin(AuditedAdmin):
    form = PatientAdminForm
    list_display = ["last_name", "first_name", "email", "phone", "cleared_for_protocols"]
    search_fields = ["last_name", "first_name", "email", "phone"]
    inlines = [ScreeningAnswerInline]
    raw_id_fields = ["user"]
    form = PatientAdminForm

    def get_readonly_fields(self, request, obj=None):
        # Linking a record to an account hands its health answers and visits to whoever
        # signs in with it: only a superuser may (re)link.
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if request.user.is_superuser else [*readonly, "user"]

    def save_model(self, request, obj, form, change):
        # The admin's change view is one transaction: a refusal here writes nothing.
        if {"email", "user"} & set(form.changed_data):
            services.carry_email_to_account(obj)
        super().save_model(request, obj, form, change)

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except services.EmailInUse as error:  # taken between the form's check and the save
            self.message_user(request, f"Not saved: {error}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(ScreeningAnswer)
class ScreeningAnswerAdmin(AuditedAdmin, LocalTimesAdmin):
    list_display = ["patient", "rule", "yes", "last_occurred", "answered_at"]
    raw_id_fields = ["patient"]


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(AuditedAdmin):
    list_display = ["patient", "treatment", "location", "sessions", "status", "first_date"]
    list_filter = ["status", "treatment", "location"]
    raw_id_fields = ["patient"]


@admin.register(Appointment)
class AppointmentAdmin(LocalTimesAdmin):
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
        "cancelled_at",
        "cancellation_reason",
        "late_cancellation",
        "notes",
        "override_reason",
        "created_at",
        "updated_at",
    ]

    form = AppointmentAdminForm
    # A booked visit's status, cancellation and place in a course change only through the
    # staff pages, whose services stamp cancelled_at, judge lateness, notify and offer the
    # freed time to the waitlist; the admin would skip all of that.
    readonly_on_change = [
        "status",
        "cancelled_at",
        "late_cancellation",
        "cancellation_reason",
        "plan",
        "session_number",
    ]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk:
            return readonly + self.readonly_on_change
        return [*readonly, "cancelled_at"]

    def save_model(self, request, obj, form, change):
        services.record_admin_save(
            obj,
            actor=request.user,
            changed=[f for f in form.changed_data if f != "override_reason"],
            now=timezone.now(),
            override_reason=form.cleaned_data.get("override_reason", ""),
        )

    def changeform_view(self, request, *args, **kwargs):
        # The form refuses overlaps; only a save racing another one reaches the database's
        # constraint, and that deserves a message, not an error page.
        try:
            return super().changeform_view(request, *args, **kwargs)
        except services.BookingError as error:
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


@admin.register(Hold)
class HoldAdmin(admin.ModelAdmin):
    """Times patients are booking online right now (booking.services.holds): to see, not to
    edit; a hold ends by itself at `expires_at` or when the patient books or leaves."""

    list_display = ["location", "provider", "room", "start_local", "expires_local"]
    list_filter = ["location"]
    list_select_related = ["location", "provider__user", "room"]
    ordering = ["start"]
    readonly_fields = [f.name for f in Hold._meta.fields if f.name != "draft"]
    exclude = ["draft"]  # the draft's token continues the booking: never shown

    @admin.display(description="start", ordering="start")
    def start_local(self, hold: Hold) -> str:
        return f"{hold.location.local(hold.start):%Y-%m-%d %H:%M %Z}"

    @admin.display(description="expires", ordering="expires_at")
    def expires_local(self, hold: Hold) -> str:
        return f"{hold.location.local(hold.expires_at):%H:%M:%S %Z}"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
