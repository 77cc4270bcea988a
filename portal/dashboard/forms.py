"""The dashboard's filters: every one is a query parameter, so a link shows the same view."""

from datetime import date, datetime, time, timedelta

from django import forms
from django.db.models import Q
from django.utils import timezone

from leads.capture.models import Form
from leads.routing.models import Queue
from portal.accounts.models import User
from portal.dashboard.selectors import WEEKDAYS, Filters, campaigns

PERIODS = {
    "7": ("Last 7 days", 7),
    "30": ("Last 30 days", 30),
    "90": ("Last 90 days", 90),
    "365": ("Last 12 months", 365),
    "all": ("All time", None),
    "custom": ("Custom dates", None),
}
DEFAULT_PERIOD = "90"


class DashboardFilterForm(forms.Form):
    period = forms.ChoiceField(
        choices=[(key, label) for key, (label, _) in PERIODS.items()], required=False
    )
    start = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"})
    )
    form = forms.ModelChoiceField(Form.objects.order_by("name"), required=False, empty_label="Any")
    campaign = forms.ChoiceField(required=False)
    source = forms.CharField(
        required=False,
        max_length=200,
        help_text="UTM source of the first submission, else the imported origin or source.",
    )
    queue = forms.ModelChoiceField(
        Queue.objects.order_by("name"), required=False, empty_label="Any"
    )
    rep = forms.ModelChoiceField(User.objects.none(), required=False, empty_label="Any")

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and not any(data.get(name) for name in ("period", "start", "end")):
            data = data.copy()
            data["period"] = DEFAULT_PERIOD  # so the select shows the period counted
        super().__init__(data, *args, **kwargs)
        self.fields["campaign"].choices = [("", "Any"), *((c, c) for c in campaigns())]
        for bound in self.fields.values():
            widget = bound.widget
            widget.attrs["class"] = (
                "form-select form-select-sm"
                if isinstance(widget, forms.Select)
                else "form-control form-control-sm"
            )
        self.fields["rep"].queryset = (
            User.objects.filter(
                Q(groups__permissions__codename="work_lead")
                & Q(groups__permissions__content_type__app_label="leads")
            )
            .distinct()
            .order_by("first_name", "last_name", "username")
        )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", "The end date is before the start date.")
        if (start or end) and data.get("period") not in ("", "custom"):
            data["period"] = "custom"
        if not data.get("period"):
            data["period"] = DEFAULT_PERIOD
        return data


def filters_from(form: DashboardFilterForm, *, today: date | None = None) -> Filters:
    """The filters the form says; those it refuses fall back to none (the form shows why)."""
    data = form.cleaned_data if form.is_valid() else _valid_part(form)
    period = data.get("period") or DEFAULT_PERIOD
    since = until = None
    if period == "custom":
        since = local_midnight(data.get("start"))
        end = data.get("end")
        until = local_midnight(end + timedelta(days=1)) if end else None
    elif PERIODS[period][1]:
        today = today or timezone.localdate()
        since = local_midnight(today - timedelta(days=PERIODS[period][1] - 1))
    return Filters(
        since=since,
        until=until,
        form=data["form"].pk if data.get("form") else None,
        campaign=data.get("campaign") or "",
        source=(data.get("source") or "").strip(),
        queue=data["queue"].pk if data.get("queue") else None,
        rep=data["rep"].pk if data.get("rep") else None,
    )


def _valid_part(form: DashboardFilterForm) -> dict:
    return {name: value for name, value in form.cleaned_data.items() if name not in form.errors}


def local_midnight(day: date | None) -> datetime | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time.min))


class ReviewScheduleForm(forms.Form):
    """The day and time of the handoff review (every other week), in TIME_ZONE."""

    weekday = forms.TypedChoiceField(
        coerce=int,
        choices=[(number, name) for number, name in enumerate(WEEKDAYS)],
        label="Day",
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    at = forms.TimeField(
        label="Time",
        widget=forms.TimeInput(
            format="%H:%M", attrs={"type": "time", "class": "form-control form-control-sm"}
        ),
    )
