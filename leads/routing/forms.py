"""The sales manager's queue page: what a queue takes, in which order, and who works it."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from leads.routing.models import Queue
from leads.routing.selectors import MODEL_BACKEND, active_reps
from leads.routing.services import QUEUE_SETTINGS
from portal.countries import country_attributes, country_code, country_names

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HOURS = ("business_days", "business_opens", "business_closes", "time_zone")


class RepChoiceField(forms.ModelMultipleChoiceField):
    """Reps by name; a member who is no longer a rep one can pick says why, so that the
    manager sees them before deciding to keep or untick them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.routable: set[int] = set()

    def label_from_instance(self, user) -> str:
        name = user.get_full_name() or user.username
        if user.pk in self.routable:
            return name
        if not user.is_active:
            return f"{name} (account deactivated: gets no leads while it is)"
        return f"{name} (no longer has a role that works leads: gets none)"


class QueueForm(forms.ModelForm):
    match_values = forms.CharField(
        required=False,
        label="Values it takes",
        help_text="Comma-separated, compared without case, e.g. Brazil, Portugal.",
    )
    business_days = forms.TypedMultipleChoiceField(
        label="The queue's working days",
        choices=list(enumerate(WEEKDAY_NAMES)),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave the days, hours and time zone blank to count the agreement's working "
        "hours.",
    )
    business_opens = forms.TimeField(
        label="Opens at",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    business_closes = forms.TimeField(
        label="Closes at",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    members = RepChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Reps",
        help_text="Leads go to them in turn. Reps already in the queue keep their place; new "
        "ones join at the end, in the order listed here.",
    )

    class Meta:
        model = Queue
        fields = QUEUE_SETTINGS
        labels = {
            "match_attribute": "Lead attribute",
            "capacity_per_rep": "Open leads per rep",
            "is_active": "Active: this queue routes leads",
            "manager": "Sales manager of the queue",
            "remind_percent": "Remind the rep at (% of the time)",
            "max_reassignments": "Reassignments before the manager takes it",
            "escalate_off_hours": "Escalate outside working hours too",
            "time_zone": "The queue's time zone",
        }
        help_texts = {
            "match_attribute": "The form field the rule reads, e.g. country; blank takes every "
            "lead.",
        }
        error_messages = {
            "priority": {
                "min_value": "A priority is a whole number from 0: queues are tried from the "
                "lowest, 0 first.",
                "max_value": "A priority is at most %(limit_value)s.",
                "invalid": "A priority is a whole number from 0, e.g. 10.",
                "required": "Give the queue a priority: a whole number from 0, lowest first.",
            },
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # As the manager types them, also on a new queue (the model's [] would show as "[]").
        values = self.instance.match_values
        if self.instance.match_attribute in country_attributes():
            values = country_names(values)
        self.initial["match_values"] = ", ".join(map(str, values))
        current = [m.rep_id for m in self.instance.members.all()] if self.instance.pk else []
        self.initial["members"] = current
        # The reps who can be given leads, and the queue's members who no longer can (an
        # account deactivated, a role changed): listed and kept ticked, so that a save keeps
        # them in the queue for when they are back, unless the manager unticks them.
        members = self.fields["members"]
        members.routable = set(active_reps().values_list("pk", flat=True))
        members.queryset = (
            get_user_model()
            .objects.filter(Q(pk__in=members.routable) | Q(pk__in=current))
            .order_by("first_name", "last_name", "username")
        )
        for name in ("remind_percent", "max_reassignments"):
            self.fields[name].required = False
        # Whoever may give leads to other reps may be handed one: the sales managers.
        self.fields["manager"].queryset = (
            get_user_model()
            .objects.with_perm(
                "leads.reassign_lead", include_superusers=False, backend=MODEL_BACKEND
            )
            .order_by("first_name", "last_name", "username")
        )

    def clean_remind_percent(self) -> int:
        return self._or_as_it_is("remind_percent")

    def clean_max_reassignments(self) -> int:
        return self._or_as_it_is("max_reassignments")

    def _or_as_it_is(self, name: str) -> int:
        """The ladder's numbers left blank stay as they are (a new queue: the defaults)."""
        value = self.cleaned_data.get(name)
        return getattr(self.instance, name) if value is None else value

    def clean_match_values(self) -> list[str]:
        return [
            value.strip() for value in self.cleaned_data["match_values"].split(",") if value.strip()
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        attribute, values = cleaned.get("match_attribute"), cleaned.get("match_values")
        if attribute in country_attributes() and values:
            # Leads keep countries as ISO codes: so does the rule, whatever was typed.
            unknown = [value for value in values if not country_code(value)]
            if unknown:
                self.add_error(
                    "match_values",
                    f"Not a country: {', '.join(unknown)}. Write its name or ISO code, e.g. "
                    "Brazil, United States, BR, US.",
                )
            else:
                cleaned["match_values"] = list(dict.fromkeys(map(country_code, values)))
        self._clean_hours(cleaned)
        if cleaned.get("match_attribute") and not cleaned.get("match_values"):
            self.add_error(
                "match_values",
                "Name the values this queue takes, or leave the attribute blank to take every "
                "lead.",
            )
        return cleaned

    def _clean_hours(self, cleaned: dict) -> None:
        """All of the queue's own hours, or none (the agreement's)."""
        zone = (cleaned.get("time_zone") or "").strip()
        days, opens, closes = (cleaned.get(n) for n in HOURS[:3])
        if not zone:
            if days or opens or closes:
                self.add_error(
                    "time_zone",
                    "Give the time zone of the queue's working hours, or clear the days and "
                    "hours to count the agreement's.",
                )
            cleaned.update(business_days=[], business_opens=None, business_closes=None)
            return
        if not is_time_zone(zone):
            self.add_error(
                "time_zone", f"“{zone}” is not a time zone; use a name such as Europe/Berlin."
            )
            return
        cleaned["time_zone"] = zone
        if not days:
            self.add_error("business_days", "Choose at least one working day.")
        if opens is None:
            self.add_error("business_opens", "Say when the queue's working day opens.")
        if closes is None:
            self.add_error("business_closes", "Say when the queue's working day closes.")
        if opens is not None and closes is not None and opens >= closes:
            self.add_error(
                "business_closes", "The working day must open before it closes (the same day)."
            )
        cleaned["business_days"] = sorted(days or [])


def is_time_zone(name: str) -> bool:
    """A name the time-zone database knows (scoring's rule, a sibling this app may not import:
    tests/leads/routing keeps the two in step)."""
    if name not in available_timezones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
