"""The editor's forms. Field names are the keyword arguments of the services they feed, so a
view passes `cleaned_data` through and a refusal from a service lands on the field it names."""

from decimal import Decimal, InvalidOperation

from django import forms

from portal.countries import country_names
from scoring import engine, service_levels
from scoring.models import Agreement, Criterion
from scoring.selectors import form_choices
from scoring.services import (
    DAYS,
    LIST,
    NOTHING,
    NUMBER,
    OPERATOR_VALUES,
    PATTERN,
    RANGE,
    VALUE_HINTS,
)


class TermsForm(forms.Form):
    summary = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="In a sentence or two, what both teams agree a qualified lead is.",
    )
    threshold = forms.IntegerField(
        label="Threshold (points)", min_value=0, help_text="Points a lead needs to qualify."
    )
    accept_within_minutes = forms.IntegerField(
        label="Accept or reject within (minutes)",
        min_value=1,
        help_text="How soon a routed lead must be accepted or rejected; 240 is 4 hours.",
    )
    contact_within_hours = forms.IntegerField(
        label="First contact within (hours)",
        min_value=1,
        help_text="How many working hours an accepted lead may wait for its first contact; "
        "with 8-hour days, 24 hours are three working days.",
    )
    business_days = forms.TypedMultipleChoiceField(
        label="Working days of the sales team",
        choices=list(enumerate(service_levels.WEEKDAY_NAMES)),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one working day."},
        help_text="Service levels count only working time: a lead routed on Friday evening "
        "is due on Monday.",
    )
    business_opens = forms.TimeField(
        label="Opens at", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    business_closes = forms.TimeField(
        label="Closes at", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    time_zone = forms.CharField(
        label="Time zone",
        max_length=64,
        help_text="Where the sales team works, e.g. Europe/Berlin or America/Sao_Paulo.",
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
    )

    holidays = forms.CharField(
        label="Days off (holidays)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Dates with no working hours, as YYYY-MM-DD, one a line or separated by "
        "commas, e.g. 2026-12-24, 2026-12-25. Service levels do not count them.",
    )

    @classmethod
    def of(cls, agreement: Agreement, data=None) -> "TermsForm":
        initial = {name: getattr(agreement, name) for name in cls.base_fields}
        initial["holidays"] = "\n".join(agreement.holidays)
        return cls(data, initial=initial, prefix="terms")

    def clean_holidays(self) -> list:
        days, bad = service_levels.holidays_read(self.cleaned_data["holidays"])
        if bad:
            raise forms.ValidationError(
                f"“{bad[0]}” is not a date; write each day off as YYYY-MM-DD, e.g. 2026-12-25."
            )
        return sorted(days)

    def clean_time_zone(self) -> str:
        name = self.cleaned_data["time_zone"].strip()
        if not service_levels.is_time_zone(name):
            raise forms.ValidationError(
                f"“{name}” is not a time zone; use a name such as Europe/Berlin."
            )
        return name

    def clean(self):
        cleaned = super().clean()
        opens, closes = cleaned.get("business_opens"), cleaned.get("business_closes")
        if opens and closes and opens >= closes:
            self.add_error("business_closes", "The working day must close after it opens.")
        return cleaned


class FormsForm(forms.Form):
    """The forms a draft judges."""

    form_ids = forms.TypedMultipleChoiceField(
        label="Forms it judges",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every form that no other active agreement lists.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["form_ids"].choices = form_choices()

    @classmethod
    def of(cls, agreement: Agreement, data=None) -> "FormsForm":
        return cls(data, initial={"form_ids": agreement.form_ids}, prefix="scope")


class CriterionForm(forms.Form):
    label = forms.CharField(max_length=200, help_text="What it is called, e.g. “Company size”.")
    kind = forms.ChoiceField(choices=Criterion.Kind.choices, widget=forms.RadioSelect)
    attribute = forms.CharField(
        max_length=64,
        label="Attribute",
        help_text="The key of a form field, e.g. company_size.",
        widget=forms.TextInput(attrs={"list": "attribute-keys", "autocomplete": "off"}),
    )
    operator = forms.ChoiceField(
        choices=Criterion.Operator.choices,
        error_messages={
            "invalid_choice": "“%(value)s” is not an operator; choose one from the list."
        },
    )
    value = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=(
            "A number for “is at least”, “is at most” and the days of “was submitted within”; "
            "two numbers (lowest, highest) for “is between”; a list, separated by commas or "
            "lines, for “is one of”, “is not one of”, the countries and the e-mail domains; a "
            "Python regular expression for “matches the pattern” (case ignored); blank for "
            "“is given”, “was answered on the form” and the free-mail checks."
        ),
    )
    points = forms.IntegerField(
        initial=0, help_text="What a scoring criterion adds; 0 for a mandatory one."
    )
    blank_passes = forms.BooleanField(
        required=False,
        label="A blank passes",
        help_text=(
            "Ticked: a lead that left this field blank, or sent a placeholder the form counts "
            "as blank, passes (or earns the points). Unticked: a blank fails."
        ),
    )

    @classmethod
    def of(cls, criterion: Criterion | None, data=None) -> "CriterionForm":
        initial = None
        if criterion is not None:
            initial = {
                "label": criterion.label,
                "kind": criterion.kind,
                "attribute": criterion.attribute,
                "operator": criterion.operator,
                "value": value_text(
                    country_names(criterion.value)
                    if criterion.operator == Criterion.Operator.COUNTRY_IN
                    and isinstance(criterion.value, list)
                    else criterion.value
                ),
                "points": criterion.points,
                "blank_passes": criterion.blank_passes,
            }
        return cls(data, initial=initial, prefix="criterion")

    def clean(self):
        cleaned = super().clean()
        operator = cleaned.get("operator")
        if operator and "value" in cleaned:
            try:
                cleaned["value"] = typed_value(operator, cleaned["value"])
            except ValueError as error:
                self.add_error("value", str(error))
        return cleaned


def typed_value(operator: str, text: str):
    """The value a criterion stores, read from what was typed for this operator."""
    needs = OPERATOR_VALUES[Criterion.Operator(operator)]
    label = Criterion.Operator(operator).label
    text = text.strip()
    if needs == NOTHING:
        if text:
            raise ValueError(f"“{label}” takes no value: leave it blank.")
        return None
    if not text:
        raise ValueError(f"“{label}” needs {VALUE_HINTS[needs]}.")
    if needs in (NUMBER, DAYS):
        return _number_typed(text, label, needs)
    if needs == RANGE:
        parts = [part for part in text.replace("\n", ",").replace(";", ",").split(",") if part]
        if len(parts) != 2:
            raise ValueError(f"“{label}” needs {VALUE_HINTS[needs]}.")
        return [_number_typed(part.strip(), label, needs) for part in parts]
    if needs == LIST:
        return [item.strip() for item in text.replace("\n", ",").split(",") if item.strip()]
    if needs == PATTERN:
        problem = engine.pattern_problem(text)
        if problem:
            raise ValueError(problem)
    return text


def _number_typed(text: str, label: str, needs: str) -> int | float:
    try:
        number = Decimal(text)
    except InvalidOperation:
        message = f"“{text}” is not a number; “{label}” needs {VALUE_HINTS[needs]}."
        raise ValueError(message) from None
    if not number.is_finite():
        raise ValueError(f"“{label}” needs {VALUE_HINTS[needs]}.")
    return int(number) if number == number.to_integral_value() else float(number)


def value_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


class SendBackForm(forms.Form):
    comment = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Why does it go back?",
        help_text="Kept on the version's page for both teams to read.",
    )


class CommentForm(forms.Form):
    text = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Comment",
        help_text="Both teams read it here; it stays whatever happens to this version.",
    )


class NewDraftForm(forms.Form):
    source = forms.ModelChoiceField(
        queryset=Agreement.objects.all(), required=False, to_field_name="version"
    )
    scope_name = forms.CharField(
        max_length=100,
        required=False,
        label="Name of the new agreement",
        help_text="For other forms, such as another product's or another sales team's.",
    )
