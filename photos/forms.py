"""The upload form: several files from a phone's camera, one zone, before or after."""

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from charts.models import Zone
from photos import images
from photos.models import Photo
from photos.services import Upload

MAX_FILES = 12


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A list of files (Django's documented pattern for `multiple`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"}),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else single(data, initial)


class UploadForm(forms.Form):
    zone = forms.ChoiceField(choices=Zone.choices, label=gettext_lazy("Zone"))
    kind = forms.ChoiceField(
        choices=Photo.Kind.choices,
        widget=forms.RadioSelect,
        initial=Photo.Kind.BEFORE,
        label=pgettext_lazy("photo", "Kind"),
    )
    photos = MultipleFileField(
        label=gettext_lazy("Photos"),
        help_text=format_lazy(
            gettext_lazy(
                "JPEG, PNG or HEIC, up to {megabytes} MB and {megapixels} megapixels each; "
                "location data is removed."
            ),
            megabytes=images.MAX_BYTES // 1024 // 1024,
            megapixels=images.MAX_PIXELS // 1_000_000,
        ),
    )
    shareable = forms.BooleanField(
        required=False,
        label=gettext_lazy("The patient may see these (photo release given)"),
    )

    def clean_photos(self):
        files = self.cleaned_data["photos"]
        if len(files) > MAX_FILES:
            raise forms.ValidationError(
                _("Send at most %(count)s photos at a time.") % {"count": MAX_FILES}
            )
        return files

    def uploads(self) -> list[Upload]:
        return [Upload(name=f.name, size=f.size, file=f) for f in self.cleaned_data["photos"]]
