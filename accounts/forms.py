"""Forms for patient accounts: sign-up, sign-in, choosing a password. Crispy layouts live
here, not in templates; `form_helper` and `DateOfBirthField` serve the portal's forms too."""

from datetime import date

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Layout, Submit
from django import forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from booking import dates
from booking.phones import PhoneField


def form_helper(*fields, submit: str | Promise | None = None) -> FormHelper:
    """A crispy layout of `fields`; `submit` (often a lazy translation) names the button."""
    helper = FormHelper()
    helper.form_tag = False
    helper.layout = Layout(*fields)
    if submit:
        helper.add_input(Submit("submit", submit, css_class="btn-primary w-100"))
    return helper


class DateOfBirthField(forms.DateField):
    widget = forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d")

    def validate(self, value):
        super().validate(value)
        if value and not (dates.in_range(value) and value <= date.today()):  # noqa: DTZ011
            raise forms.ValidationError(_("Please check your date of birth."))


class SignUpForm(forms.Form):
    first_name = forms.CharField(
        label=_("First name"), max_length=60, widget=forms.TextInput({"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=60, widget=forms.TextInput({"autocomplete": "family-name"})
    )
    email = forms.EmailField(label=_("Email"), widget=forms.EmailInput({"autocomplete": "email"}))
    phone = PhoneField(label=_("Phone"), help_text=_("So we can reach you about your visit."))
    date_of_birth = DateOfBirthField(label=_("Date of birth"))
    email_consent = forms.BooleanField(
        label=_("Email me reminders and aftercare"), required=False, initial=True
    )
    sms_consent = forms.BooleanField(label=_("Text me reminders"), required=False)

    FIELDS = (
        Div(
            Div("first_name", css_class="col-sm-6"),
            Div("last_name", css_class="col-sm-6"),
            css_class="row",
        ),
        "email",
        "phone",
        "date_of_birth",
        "email_consent",
        "sms_consent",
    )
    helper = form_helper(*FIELDS, submit=_("Create my account"))
    # Inside the booking's review form, whose buttons confirm the booking.
    inline_helper = form_helper(*FIELDS)

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


class SignInForm(AuthenticationForm):
    """Patients sign in with their email; staff with their username."""

    helper = form_helper("username", "password", submit=_("Sign in"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Email")
        self.fields["password"].label = _("Password")
        self.fields["username"].widget.attrs.update({"autocomplete": "email"})
        self.error_messages["invalid_login"] = _(
            "That email and password do not match an account. Please try again."
        )

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


class ChoosePasswordForm(SetPasswordForm):
    helper = form_helper("new_password1", "new_password2", submit=_("Save and continue"))


class ConfirmEmailForm(SetPasswordForm):
    """The emailed link's page: confirming the address is the button; a password is optional
    (without one, the patient signs in with an emailed code)."""

    helper = form_helper("new_password1", "new_password2", submit=_("Confirm my email"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("new_password1", "new_password2"):
            self.fields[name].required = False
        self.fields["new_password1"].label = _("Password (optional)")
        self.fields["new_password1"].help_text = _(
            "Leave it empty to sign in with a code we email you instead."
        )

    def _blank(self) -> bool:
        data = self.data
        return not (data.get("new_password1") or data.get("new_password2"))

    def clean(self):
        if self._blank():
            return self.cleaned_data
        if not self.data.get("new_password2"):
            self.add_error("new_password2", _("Please type the password a second time."))
        return super().clean()

    def save(self, commit=True):
        if self._blank():
            if not self.user.has_usable_password():
                self.user.set_unusable_password()
            if commit:
                self.user.save()
            return self.user
        return super().save(commit=commit)


class RequestCodeForm(forms.Form):
    """A returning patient's email, to send them a one-time sign-in code."""

    email = forms.EmailField(label=_("Email"), widget=forms.EmailInput({"autocomplete": "email"}))
    helper = form_helper("email", submit=_("Email me a sign-in code"))

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


class EmailCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the email"),
        max_length=12,
        widget=forms.TextInput(
            {"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )
    helper = form_helper("code", submit=_("Sign in and continue"))


class CodeForm(forms.Form):
    """The second sign-in step: a 6-digit authenticator code, or a recovery code."""

    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_(
            "The 6-digit code your authenticator app shows, or one of your recovery codes."
        ),
        widget=forms.TextInput(
            {"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
        ),
    )

    helper = form_helper("code", submit=_("Continue"))


class ConfirmAuthenticatorForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=16,
        help_text=_("The 6-digit code the app shows now for skinclinic."),
        widget=forms.TextInput(
            {"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )

    helper = form_helper("code", submit=_("Turn on two-step sign-in"))

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError(_("Enter the 6 digits the app shows."))
        return code
