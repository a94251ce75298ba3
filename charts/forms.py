"""The chart page's forms: what was used and how the skin responded, one depth per zone, and
the date/aesthetician picker of the day sheet. Crispy layouts live here."""

from datetime import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from booking.models import Appointment, Provider
from charts.models import SkinResponse, TreatmentChart, Zone, ZoneDepth
from charts.services import DETAIL_FIELDS, ZoneEntry, depth_problem


class DayForm(forms.Form):
    """?date=YYYY-MM-DD (default today) and, for the front desk, ?provider=ID."""

    date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label=gettext_lazy("Date")
    )
    provider = forms.ModelChoiceField(
        Provider.objects.active(),
        required=False,
        label=gettext_lazy("Aesthetician"),
        empty_label=None,
    )


class ChartForm(forms.ModelForm):
    """Everything on the chart except the depths. The numbing time is a wall-clock time on
    the day of the visit, in the location's zone."""

    numbing_applied_at = forms.TimeField(
        label=gettext_lazy("Numbing applied at"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )

    class Meta:
        model = TreatmentChart
        fields = DETAIL_FIELDS
        widgets = {
            "aftercare_given": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "skin_response": forms.RadioSelect,
        }
        labels = {
            "numbing_agent": gettext_lazy("Numbing agent"),
            "device": gettext_lazy("Device"),
            "cartridge_lot": gettext_lazy("Cartridge lot number"),
            "skin_response": gettext_lazy("Skin response"),
            "aftercare_given": gettext_lazy("Aftercare given"),
            "notes": gettext_lazy("Notes"),
        }
        help_texts = {
            "numbing_agent": gettext_lazy("e.g. BLT cream 20/6/4"),
            "device": gettext_lazy("e.g. SkinPen Precision"),
            "aftercare_given": gettext_lazy("What the patient was given and told."),
        }

    consent_reason = forms.CharField(
        label=gettext_lazy("Reason to complete without a signed consent"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("Only when the patient could not sign; the reason is recorded."),
    )

    # Shown as "Last time: ..." beside the field, never filled in as today's value.
    LAST_TIME_FIELDS = ("numbing_agent", "device")

    def __init__(
        self, *args, appointment: Appointment, last: TreatmentChart | None = None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.appointment = appointment
        self.fields["skin_response"].choices = SkinResponse.choices  # no blank radio
        for name in self.LAST_TIME_FIELDS if last else ():
            if value := getattr(last, name):
                self.fields[name].help_text = _("Last time: %(value)s") % {"value": value}
        if self.instance.pk and "numbing_applied_at" not in kwargs.get("initial", {}):
            self.initial["numbing_applied_at"] = appointment.location.local(
                self.instance.numbing_applied_at
            ).time()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(
                Column("numbing_agent", css_class="col-md-8"),
                Column("numbing_applied_at", css_class="col-md-4"),
            ),
            Row(
                Column("device", css_class="col-md-8"),
                Column("cartridge_lot", css_class="col-md-4"),
            ),
            "skin_response",
            "aftercare_given",
            "notes",
        )

    def clean_numbing_applied_at(self) -> datetime:
        clock = self.cleaned_data["numbing_applied_at"]
        day = self.appointment.local_start.date()
        return datetime.combine(day, clock, tzinfo=self.appointment.location.zone)

    def details(self) -> dict:
        return {field: self.cleaned_data[field] for field in DETAIL_FIELDS}


class CorrectionForm(ChartForm):
    correction_reason = forms.CharField(
        label=gettext_lazy("What does this correction fix?"),
        max_length=200,
        help_text=gettext_lazy("Kept with the chart. The original entry stays on record."),
    )

    class Meta(ChartForm.Meta):
        fields = (*DETAIL_FIELDS, "correction_reason")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.layout.insert(0, "correction_reason")


class ZoneDepthForm(forms.Form):
    """One row of the depth table: a zone, its depth in mm (blank: not treated), a reason."""

    zone = forms.ChoiceField(choices=Zone.choices, widget=forms.HiddenInput)
    depth_mm = forms.DecimalField(
        label=gettext_lazy("Depth (mm)"),
        required=False,
        max_digits=3,
        decimal_places=2,
        min_value=0,
        widget=forms.NumberInput(attrs={"step": "0.05", "inputmode": "decimal"}),
    )
    outside_bounds_reason = forms.CharField(
        label=gettext_lazy("Reason if outside bounds"), required=False, max_length=200
    )

    def __init__(self, *args, bounds=(None, None), last_time=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.bounds = bounds
        self.last_time: dict[str, ZoneDepth] = last_time or {}

    @property
    def zone_label(self) -> str:
        value = self["zone"].value()
        return Zone(value).label if value in Zone.values else str(value or "")

    @property
    def last_depth(self) -> ZoneDepth | None:
        """This zone at the previous session, shown beside the empty field."""
        return self.last_time.get(self["zone"].value())

    def clean(self):
        cleaned = super().clean()
        depth = cleaned.get("depth_mm")
        if depth is not None:
            low, high = self.bounds
            problem = depth_problem(depth, low, high, cleaned.get("outside_bounds_reason", ""))
            if problem:
                field = "depth_mm" if depth <= 0 else "outside_bounds_reason"
                self.add_error(field, problem)
        return cleaned


class BaseZoneDepthFormSet(forms.BaseFormSet):
    """The zone table. A tampered one (an unknown zone, a zone twice, thousands of rows) is a
    form error: at most one row per zone is ever built (absolute_max)."""

    def clean(self):
        if any(self.errors):
            return
        zones = [form.cleaned_data.get("zone") for form in self.forms]
        if len(zones) != len(set(zones)):
            raise forms.ValidationError(_("Each zone once, please: reload the page and try again."))
        if not self.entries():
            raise forms.ValidationError(_("Record the needle depth of at least one treated zone."))

    def entries(self) -> list[ZoneEntry]:
        return [
            ZoneEntry(
                zone=form.cleaned_data["zone"],
                depth_mm=form.cleaned_data["depth_mm"],
                outside_bounds_reason=form.cleaned_data.get("outside_bounds_reason", ""),
            )
            for form in self.forms
            if form.cleaned_data.get("depth_mm") is not None
        ]


ZoneDepthFormSet = forms.formset_factory(
    ZoneDepthForm,
    formset=BaseZoneDepthFormSet,
    extra=0,
    max_num=len(Zone),
    absolute_max=len(Zone),
    validate_max=True,
)


def zone_formset(
    appointment: Appointment,
    data=None,
    chart: TreatmentChart | None = None,
    last: TreatmentChart | None = None,
    filled: dict[str, tuple] | None = None,
) -> BaseZoneDepthFormSet:
    """One row per zone, in the usual order, filled from `chart` when editing or correcting,
    or from `filled` ({zone: (depth, reason)}) when re-shown. `last` is the previous session,
    shown beside each row and never filled in."""
    recorded = (
        {z.zone: (z.depth_mm, z.outside_bounds_reason) for z in chart.zones.all()} if chart else {}
    )
    recorded |= filled or {}
    initial = [
        {
            "zone": zone,
            "depth_mm": recorded[zone][0] if zone in recorded else None,
            "outside_bounds_reason": recorded[zone][1] if zone in recorded else "",
        }
        for zone in Zone.values
    ]
    protocol = appointment.treatment.protocol_or_none
    bounds = (
        (protocol.needle_depth_min_mm, protocol.needle_depth_max_mm) if protocol else (None, None)
    )
    last_time = {z.zone: z for z in last.zones.all()} if last else {}
    return ZoneDepthFormSet(
        data,
        initial=initial,
        prefix="zones",
        form_kwargs={"bounds": bounds, "last_time": last_time},
    )


def typed_zones(formset: BaseZoneDepthFormSet) -> dict[str, tuple]:
    """What was typed in a bound zone table, unvalidated: {zone: (depth, reason)}."""
    return {
        form["zone"].value(): (form["depth_mm"].value(), form["outside_bounds_reason"].value())
        for form in formset.forms
        if form["zone"].value() in Zone.values
    }
