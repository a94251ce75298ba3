"""Phone numbers: stored in E.164 (``+14045550100``), typed in the region of a location.

A number written with its country code (``+34 612 345 678``) means what it says; one written
without (``612 345 678``) is read in the country of the patient's location (Location.country),
else in settings.PHONENUMBER_DEFAULT_REGION. Only numbers libphonenumber calls valid are kept,
so ``=1+1`` or a digit too many is refused with a message instead of stored. Matching (an SMS
reply, a delivery report) compares E.164 strings exactly: nothing is matched on its last digits.
"""

import phonenumbers
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField as _PhoneNumberFormField  # type: ignore[import-untyped]
from phonenumber_field.phonenumber import PhoneNumber  # type: ignore[import-untyped]

__all__ = ["E164_PATTERN", "PhoneField", "default_region", "invalid_message", "to_e164"]

# What the database's check constraint accepts: '+', a country code, at most 15 digits.
E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"


def default_region() -> str:
    return settings.PHONENUMBER_DEFAULT_REGION


def invalid_message(region: str | None = None) -> str:
    """'Enter a phone number like 201-555-0123, or ...' with an example from `region`."""
    region = region or default_region()
    example = phonenumbers.example_number(region)
    national = (
        phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
        if example
        else "201-555-0123"
    )
    return str(
        _("Enter a phone number like %(example)s, or with its country code like +34 612 345 678.")
        % {"example": national}
    )


def to_e164(raw: object, region: str | None = None) -> str:
    """`raw` as an E.164 string ('' for blank), read in `region` when it has no country code.
    Raises ValidationError (with a message for the person typing) when it is not a number."""
    if raw is None:
        return ""
    if isinstance(raw, phonenumbers.PhoneNumber):
        number = raw
    else:
        text = str(raw).strip()
        if not text:
            return ""
        try:
            number = phonenumbers.parse(text, region or default_region())
        except phonenumbers.NumberParseException:
            raise ValidationError(invalid_message(region), code="invalid") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(invalid_message(region), code="invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class PhoneField(_PhoneNumberFormField):
    """A form field for a phone number typed in `region` (settable after the form is built,
    once the location is known: ``form.fields["phone"].set_region("ES")``). Cleans to an
    E.164 string ('' when left blank) and shows stored numbers nationally for that region."""

    def __init__(self, *args, region: str | None = None, **kwargs):
        kwargs.setdefault("max_length", 40)
        super().__init__(*args, region=region, **kwargs)
        self.widget.attrs.update({"type": "tel", "autocomplete": "tel"})
        self.set_region(self.region)

    def set_region(self, region: str | None) -> None:
        self.region = region or default_region()
        self.widget.region = self.region
        self.error_messages["invalid"] = invalid_message(self.region)

    def to_python(self, value):
        if value in self.empty_values:
            return ""
        if isinstance(value, PhoneNumber):
            return to_e164(value, self.region)
        return to_e164(forms.CharField.to_python(self, value), self.region)

    def validate(self, value):
        forms.CharField.validate(self, value)

    def run_validators(self, value):
        """to_python has already refused anything that is not a valid number."""
