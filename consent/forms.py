from django import forms
from django.utils.translation import gettext_lazy as _

from consent.models import ConsentFormVersion


class SignForm(forms.Form):
    """One signature: the hash of the text shown, the drawn signature and the ticked boxes
    (by their position on the form)."""

    text_sha256 = forms.CharField(
        widget=forms.HiddenInput,
        max_length=64,
        error_messages={
            "required": _("The form could not be read; please reload the page and sign again."),
            "max_length": _("The form could not be read; please reload the page and sign again."),
        },
    )
    signature = forms.CharField(
        widget=forms.HiddenInput,
        required=False,
        max_length=500_000,
        error_messages={"max_length": _("The signature image is too large.")},
    )

    def __init__(self, *args, version: ConsentFormVersion, **kwargs):
        super().__init__(*args, **kwargs)
        self.version = version
        self.fields["ticked"] = forms.TypedMultipleChoiceField(
            choices=[(str(i), line) for i, line in enumerate(version.checkboxes)],
            coerce=int,
            required=False,
            widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
            label="",
        )

    def ticked(self) -> list[str]:
        return [self.version.checkboxes[i] for i in self.cleaned_data.get("ticked", [])]
