"""The upload form: several files from a phone's camera, one zone, before or after."""

from django import forms

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
    zone = forms.ChoiceField(choices=Zone.choices)
    kind = forms.ChoiceField(
        choices=Photo.Kind.choices, widget=forms.RadioSelect, initial=Photo.Kind.BEFORE
    )
    photos = MultipleFileField(
        help_text=f"JPEG, PNG or HEIC, up to {images.MAX_BYTES // 1024 // 1024} MB and "
        f"{images.MAX_PIXELS // 1_000_000} megapixels each; location data is removed."
    )
    shareable = forms.BooleanField(
        required=False,
        label="The patient may see these (photo release given)",
    )

    def clean_photos(self):
        files = self.cleaned_data["photos"]
        if len(files) > MAX_FILES:
            raise forms.ValidationError(f"Send at most {MAX_FILES} photos at a time.")
        return files

    def uploads(self) -> list[Upload]:
        return [Upload(name=f.name, size=f.size, file=f) for f in self.cleaned_data["photos"]]
