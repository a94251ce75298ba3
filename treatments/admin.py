from django.contrib import admin
from modeltranslation.admin import TranslationAdmin

from .models import Protocol, ScreeningRule, Treatment


class ProtocolInline(admin.StackedInline):
    model = Protocol
    extra = 0
    max_num = 1


@admin.register(Treatment)
class TreatmentAdmin(TranslationAdmin):
    list_display = ["name", "duration_minutes", "numbing_minutes", "price", "is_active"]
    list_filter = ["is_active", "is_consultation"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]
    inlines = [ProtocolInline]


@admin.register(Protocol)
class ProtocolAdmin(admin.ModelAdmin):
    list_display = ["treatment", "min_sessions", "default_sessions", "max_sessions"]
    list_select_related = ["treatment"]


@admin.register(ScreeningRule)
class ScreeningRuleAdmin(TranslationAdmin):
    list_display = ["question", "code", "outcome", "lookback_days"]
    list_filter = ["outcome"]
    filter_horizontal = ["treatments"]
