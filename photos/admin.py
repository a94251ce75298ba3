"""Read-only lists of photos and of who viewed them. The images themselves are shown only by
the access-checked pages (photos.views), never here."""

from django.contrib import admin

from .models import Photo, PhotoView


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Photo)
class PhotoAdmin(ReadOnly):
    list_display = ["appointment", "zone", "kind", "shareable", "uploaded_by", "uploaded_at"]
    list_filter = ["kind", "shareable", "zone"]
    list_select_related = ["appointment__patient", "appointment__treatment", "uploaded_by"]
    search_fields = ["patient__last_name"]
    exclude = ["original", "thumbnail"]  # storage names; the files are opened in the app


@admin.register(PhotoView)
class PhotoViewAdmin(ReadOnly):
    """The audit of every look at a photo (a page's thumbnail, a full size, an export)."""

    list_display = ["at", "viewer", "photo", "variant"]
    list_filter = ["variant"]
    list_select_related = ["viewer", "photo"]
    search_fields = ["viewer__username", "photo__patient__last_name"]
    date_hierarchy = "at"
