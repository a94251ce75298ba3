"""Forms a patient fills in: safety screening, contact details, and the small forms behind
the booking flow's buttons. Crispy layouts live here, not in templates. (Sign-up and sign-in:
accounts/forms.py.)"""

from datetime import date, datetime

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.layout import Div, Field
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import DateOfBirthField, form_helper
from booking import services
from booking.dates import in_range
from booking.models import Patient
from booking.phones import PhoneField
from treatments import screening

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class ScreeningForm(forms.Form):
    """One yes/no question per screening rule, plus "when?" for look-back questions.

    `rules` are ScreeningRule rows; `previous` maps a rule code to the last screening.Answer,
    so a patient re-confirming before a later session sees their last answers filled in."""

    def __init__(self, *args, rules, previous=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.rules = list(rules)
        previous = previous or {}
        layout = []
        for rule in self.rules:
            answer = previous.get(rule.code)
            self.fields[f"q_{rule.code}"] = forms.ChoiceField(
                label=rule.question,
                choices=YES_NO,
                widget=forms.RadioSelect,
                initial=None if answer is None else ("yes" if answer.yes else "no"),
                error_messages={"required": _("Please answer yes or no.")},
            )
            layout.append(InlineRadios(f"q_{rule.code}"))
            if rule.lookback_days:
                self.fields[f"when_{rule.code}"] = forms.DateField(
                    label=_("If yes, when did you last take it? (leave empty if you still do)"),
                    required=False,
                    widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                    initial=answer.last_occurred if answer else None,
                )
                layout.append(Div(Field(f"when_{rule.code}"), css_class="ms-md-4"))
        self.helper = form_helper(*layout, submit=_("Continue"))

    def answers(self) -> list[screening.Answer]:
        return [
            screening.Answer(
                code=rule.code,
                yes=self.cleaned_data[f"q_{rule.code}"] == "yes",
                last_occurred=self.cleaned_data.get(f"when_{rule.code}"),
            )
            for rule in self.rules
        ]

    def clean(self):
        cleaned = super().clean()
        for rule in self.rules:
            when = cleaned.get(f"when_{rule.code}")
            if when and when > date.today():  # noqa: DTZ011 - a calendar date the patient typed
                self.add_error(f"when_{rule.code}", _("That date is in the future."))
        return cleaned


class ContactDetailsForm(forms.ModelForm):
    date_of_birth = DateOfBirthField(label=_("Date of birth"))
    phone = PhoneField(label=_("Phone"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].set_region(services.phone_region(self.instance))

    class Meta:
        model = Patient
        fields = [
            "first_name",
            "last_name",
            "phone",
            "date_of_birth",
            "email_consent",
            "sms_consent",
        ]
        labels = {
            "first_name": _("First name"),
            "last_name": _("Last name"),
            "email_consent": _("Email me reminders and aftercare"),
            "sms_consent": _("Text me reminders"),
        }

    helper = form_helper(
        Div(
            Div("first_name", css_class="col-sm-6"),
            Div("last_name", css_class="col-sm-6"),
            css_class="row",
        ),
        "phone",
        "date_of_birth",
        "email_consent",
        "sms_consent",
        submit=_("Save my details"),
    )


class ChooseTimeForm(forms.Form):
    """The time a patient picked from the week of free times (an ISO instant with offset)."""

    start = forms.CharField()

    def clean_start(self) -> datetime:
        try:
            start = datetime.fromisoformat(self.cleaned_data["start"])
        except ValueError:
            raise forms.ValidationError(_("Please pick one of the times shown.")) from None
        if start.tzinfo is None or not in_range(start):
            raise forms.ValidationError(_("Please pick one of the times shown."))
        return start


class ConfirmForm(forms.Form):
    """The review page's buttons: book the whole course, or this session only."""

    BOOK_ALL = "all"
    BOOK_ONE = "one"

    PAY_COURSE = "course"
    PAY_SESSIONS = "sessions"

    choice = forms.ChoiceField(choices=[(BOOK_ALL, "all"), (BOOK_ONE, "one")], required=False)
    sessions = forms.IntegerField(required=False, min_value=1, max_value=50)
    # Booking a whole course: pay it all now (at the course price) or session by session.
    pay = forms.ChoiceField(
        choices=[(PAY_COURSE, "course"), (PAY_SESSIONS, "sessions")], required=False
    )
