"""The owner writes consent forms here; saving a changed text publishes the next version
(consent.services.publish). Versions and signatures are read-only: they are the record."""

from django.contrib import admin
from django.utils import timezone

from consent import services
from consent.models import ConsentForm, ConsentFormVersion, ConsentSignature


class VersionInline(admin.TabularInline):
    model = ConsentFormVersion
    fields = ("number", "title", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ConsentForm)
class ConsentFormAdmin(admin.ModelAdmin):
    list_display = ("title", "treatment", "photo_release", "active")
    list_filter = ("active", "photo_release", "treatment")
    inlines = [VersionInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        version = services.publish(obj, now=timezone.now(), actor=request.user)
        self.message_user(request, f"Patients now sign version {version.number}.")

    def has_delete_permission(self, request, obj=None):
        # A form someone signed is part of their record.
        if obj is not None and ConsentSignature.objects.filter(version__form=obj).exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(ConsentSignature)
class ConsentSignatureAdmin(admin.ModelAdmin):
    list_display = ("patient", "version", "signed_at", "witnessed_by")
    list_select_related = ("patient", "version", "witnessed_by")
    search_fields = ("patient__last_name", "patient__first_name")
    readonly_fields = [f.name for f in ConsentSignature._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Never deleted from its own pages. Elsewhere (a patient's delete page asks about every
        # related row) say yes, so the admin answers with its "protected related objects" list:
        # the foreign key's PROTECT is what refuses, naming each signed form.
        match = getattr(request, "resolver_match", None)
        if match is not None and (match.url_name or "").startswith("consent_consentsignature"):
            return False
        return super().has_delete_permission(request, obj)
