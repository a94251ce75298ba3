from django.contrib import admin

from .models import TreatmentChart, ZoneDepth


class ZoneDepthInline(admin.TabularInline):
    model = ZoneDepth
    extra = 0
    readonly_fields = ["zone", "depth_mm", "outside_bounds_reason"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TreatmentChart)
class TreatmentChartAdmin(admin.ModelAdmin):
    """Read-only: charts are written by the aesthetician's chart page, which keeps the audit
    trail and completes the visit; corrections are new entries there, not edits here."""

    list_display = ["appointment", "recorded_at", "recorded_by", "skin_response", "superseded_at"]
    list_filter = ["skin_response"]
    list_select_related = ["appointment__patient", "appointment__treatment", "recorded_by"]
    search_fields = ["appointment__patient__last_name", "cartridge_lot"]
    inlines = [ZoneDepthInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
