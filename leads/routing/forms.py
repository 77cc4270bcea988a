"""The sales manager's queue page: what a queue takes, in which order, and who works it."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from leads.routing.models import Absence, Availability, Queue, shown_condition
from leads.routing.selectors import MODEL_BACKEND, active_reps
from leads.routing.services import QUEUE_SETTINGS
from portal.countries import country_attributes, country_code
from scoring import engine
from scoring.service_levels import is_time_zone, time_zone_choices

MEMBER_FIELDS = ("weight", "open_cap", "daily_cap")  # per rep: weight_12, open_cap_12...
MEMBER_NUMBER = forms.NumberInput(attrs={"class": "form-control form-control-sm"})
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


class ConditionRows:
    """A rule's conditions as rows of fields (attribute, operator, value, a blank passes):
    one per condition, and two empty ones to add more."""

    def add_condition_rows(self, conditions: list) -> None:
        conditions = list(conditions)
        rows = len(conditions) + CONDITION_ROWS_FREE
        if self.is_bound:  # as many rows as were posted (a page may have had more)
            start = self.add_prefix("condition_")
            posted = {k[len(start) :].split("_")[0] for k in self.data if k.startswith(start)}
            rows = max(rows, *(int(n) + 1 for n in posted if n.isdigit()), 0)
        fields = {}
        for i in range(rows):
            condition = shown_condition(conditions[i]) if i < len(conditions) else {}
            n = i + 1
            fields[f"condition_{i}_attribute"] = forms.CharField(
                required=False,
                max_length=64,
                label=f"Condition {n}: lead attribute",
                initial=condition.get("attribute", ""),
                help_text="A form or import field (e.g. country, company_size, industry), or "
                "form, campaign, score. Leave blank to drop the condition."
                if i == 0
                else "",
            )
            fields[f"condition_{i}_operator"] = forms.ChoiceField(
                required=False,
                choices=OPERATOR_CHOICES,
                label=f"Condition {n}: operator",
                initial=condition.get("operator", "one_of"),
            )
            fields[f"condition_{i}_value"] = forms.CharField(
                required=False,
                label=f"Condition {n}: value",
                initial=value_text(condition.get("value")),
                help_text=VALUE_HELP if i == 0 else "",
            )
            fields[f"condition_{i}_blank_passes"] = forms.BooleanField(
                required=False,
                label=f"Condition {n}: a blank passes",
                initial=bool(condition.get("blank_passes")),
            )
        self.condition_rows = rows
        # The conditions come right after the priority, before capacity and reps.
        order = list(self.fields)
        at = order.index("priority") + 1 if "priority" in order else len(order)
        self.fields.update(fields)
        self.order_fields(order[:at] + list(fields) + order[at:])

    def clean_condition_rows(self, cleaned: dict) -> list[dict]:
        conditions = []
        for i in range(self.condition_rows):
            attribute = (cleaned.get(f"condition_{i}_attribute") or "").strip()
            operator = cleaned.get(f"condition_{i}_operator") or "one_of"
            text = cleaned.get(f"condition_{i}_value") or ""
            if not attribute:
                if text.strip():
                    self.add_error(
                        f"condition_{i}_attribute",
                        "Name the lead attribute this condition reads, or clear its value.",
                    )
                continue
            if operator not in engine.OPERATORS:
                self.add_error(f"condition_{i}_operator", "Choose an operator from the list.")
                continue
            if operator == "one_of" and attribute in country_attributes():
                operator = "country_in"  # the same test, and the page names the countries
            try:
                value = condition_value(attribute, operator, text)
            except ValueError as error:
                self.add_error(f"condition_{i}_value", str(error))
                continue
            conditions.append(
                {
                    "attribute": attribute,
                    "operator": operator,
                    "value": value,
                    "blank_passes": bool(cleaned.get(f"condition_{i}_blank_passes")),
                }
            )
        cleaned["conditions"] = conditions
        return conditions


class TimeZoneInput(forms.TextInput):
    """A text box that suggests the time-zone database's names as one types ("Sao" offers
    America/Sao_Paulo), from a datalist of its own: plain HTML, nothing to load."""

    template_name = "routing/widgets/time_zone.html"

    def __init__(self, attrs=None):
        super().__init__({"autocomplete": "off", **(attrs or {})})

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        widget["attrs"]["list"] = f"{widget['attrs'].get('id', name)}-zones"
        widget["zones"] = time_zone_choices()
        return context


class QueueForm(ConditionRows, forms.ModelForm):
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
        fields = [name for name in QUEUE_SETTINGS if name != "conditions"]  # rows, below
        labels = {
            "strategy": "How reps take turns",
            "capacity_per_rep": "Open leads per rep",
            "daily_cap_per_rep": "Leads per rep per day",
            "is_active": "Active: this queue routes leads",
            "manager": "Sales manager of the queue",
            "remind_percent": "Remind the rep at (% of the time)",
            "max_reassignments": "Reassignments before the manager takes it",
            "escalate_off_hours": "Escalate outside working hours too",
            "time_zone": "The queue's time zone",
        }
        widgets = {"time_zone": TimeZoneInput}
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
        self.add_condition_rows(self.instance.conditions or [])
        current = [m.rep_id for m in self.instance.members.all()] if self.instance.pk else []
        self.initial["members"] = current
        # The reps who can be given leads, and the queue's members who no longer can (an
        # account deactivated, a role changed): listed and kept ticked, so that a save keeps
        # them in the queue for when they are back, unless the manager unticks them.
        members = self.fields["members"]
        members.routable = set(active_reps().values_list("pk", flat=True))
        members.widget.attrs["class"] = "form-check-input"  # a box on each row of the table
        members.queryset = (
            get_user_model()
            .objects.filter(Q(pk__in=members.routable) | Q(pk__in=current))
            .order_by("first_name", "last_name", "username")
        )
        for name in ("remind_percent", "max_reassignments", "strategy"):
            self.fields[name].required = False
        self.fields["strategy"].help_text = (
            "Round robin: each in turn. Weighted: each rep gets their share (below). Least "
            "loaded: whoever has fewest open leads, ties in turn. All skip reps who are away, "
            "outside their hours, paused or at a cap."
        )
        self._add_member_fields()
        # Whoever may give leads to other reps may be handed one: the sales managers.
        self.fields["manager"].queryset = (
            get_user_model()
            .objects.with_perm(
                "leads.reassign_lead", include_superusers=False, backend=MODEL_BACKEND
            )
            .order_by("first_name", "last_name", "username")
        )

    def _add_member_fields(self) -> None:
        """A row per rep: their share in a weighted queue (2 gets twice the leads of 1) and
        their own caps (blank: the queue's). Named by rep id, so the API posts the same."""
        members = {}
        if self.instance.pk:
            members = {m.rep_id: m for m in self.instance.members.all()}
        for rep in self.fields["members"].queryset:
            name = rep.get_full_name() or rep.username
            member = members.get(rep.pk)
            self.fields[f"weight_{rep.pk}"] = forms.IntegerField(
                required=False,
                min_value=1,
                max_value=100,
                initial=member.weight if member else 1,
                label=f"Share of {name}",
                widget=MEMBER_NUMBER,
                help_text="Weighted queues only: a whole number from 1 to 100.",
            )
            self.fields[f"open_cap_{rep.pk}"] = forms.IntegerField(
                required=False,
                min_value=0,
                initial=member.open_cap if member else None,
                label=f"Open leads {name} may hold",
                widget=MEMBER_NUMBER,
                help_text="Blank: the queue's open leads per rep.",
            )
            self.fields[f"daily_cap_{rep.pk}"] = forms.IntegerField(
                required=False,
                min_value=0,
                initial=member.daily_cap if member else None,
                label=f"Leads a day for {name}",
                widget=MEMBER_NUMBER,
                help_text="Blank: the queue's leads per rep per day.",
            )

    def member_rows(self) -> list[dict]:
        """The members table of the queue page: each rep, their box and their fields."""
        boxes = {str(box.data["value"]): box for box in self["members"]}
        return [
            {
                "rep": rep,
                "box": boxes[str(rep.pk)],
                "fields": [self[f"{name}_{rep.pk}"] for name in MEMBER_FIELDS],
            }
            for rep in self.fields["members"].queryset
        ]

    def queue_fields(self) -> list:
        """The queue's own fields, above the members table."""
        return [field for field in self if field.name != "members" and not _per_rep(field.name)]

    def weights(self) -> dict[int, int]:
        return self._by_rep("weight_", keep=bool)

    def member_caps(self) -> dict[int, tuple[int | None, int | None]]:
        """Each rep's own caps (open leads, leads a day); None: the queue's."""
        open_caps = self._by_rep("open_cap_")
        daily_caps = self._by_rep("daily_cap_")
        return {rep: (open_caps[rep], daily_caps.get(rep)) for rep in open_caps}

    def _by_rep(self, prefix: str, keep=lambda value: True) -> dict:
        return {
            int(name.removeprefix(prefix)): value
            for name, value in self.cleaned_data.items()
            if name.startswith(prefix) and _per_rep(name) and keep(value)
        }

    def clean_strategy(self) -> str:
        return self.cleaned_data.get("strategy") or self.instance.strategy

    def clean_remind_percent(self) -> int:
        return self._or_as_it_is("remind_percent")

    def clean_max_reassignments(self) -> int:
        return self._or_as_it_is("max_reassignments")

    def _or_as_it_is(self, name: str) -> int:
        """The ladder's numbers left blank stay as they are (a new queue: the defaults)."""
        value = self.cleaned_data.get(name)
        return getattr(self.instance, name) if value is None else value

    def clean(self) -> dict:
        cleaned = super().clean()
        self.instance.conditions = self.clean_condition_rows(cleaned)
        self._clean_hours(cleaned)
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


def _per_rep(name: str) -> bool:
    """A member field (weight_12, open_cap_12), not the queue's own (daily_cap_per_rep)."""
    field, _, rep = name.rpartition("_")
    return field in MEMBER_FIELDS and rep.isdigit()


CONDITION_ROWS_FREE = 2
OPERATOR_CHOICES = [(name, words) for name, (_, words) in engine.OPERATORS.items()]
VALUE_HELP = (
    "A list separated by commas for “is one of” and the countries (names or ISO codes); a "
    "number for “is at least/at most”; two numbers (lowest, highest) for “is between”; blank "
    "for “is given”. The same operators, and the same blank rules, as the agreement's criteria."
)
_HINTS = {
    engine.LIST: "a list, separated by commas",
    engine.NUMBER: "a number",
    engine.DAYS: "a number of days",
    engine.RANGE: "two numbers, lowest first, e.g. 10, 50",
    engine.TEXT: "a value",
    engine.PATTERN: "a pattern",
}


def condition_value(attribute: str, operator: str, text: str):
    """What a condition stores, read from what was typed for its operator; ValueError names
    the problem. Countries are kept as ISO codes, as leads keep them."""
    needs, words = engine.OPERATORS[operator]
    text = text.strip()
    if needs == engine.NOTHING:
        if text:
            raise ValueError(f"“{words}” takes no value: leave it blank.")
        return None
    if not text:
        raise ValueError(f"“{words}” needs {_HINTS[needs]}.")
    value: object = text
    if needs == engine.LIST:
        value = [item.strip() for item in text.replace("\n", ",").split(",") if item.strip()]
        if operator == "country_in" or (operator == "one_of" and attribute in country_attributes()):
            unknown = [item for item in value if not country_code(item)]
            if unknown:
                raise ValueError(
                    f"Not a country: {', '.join(unknown)}. Write its name or ISO code, e.g. "
                    "Brazil, United States, BR, US."
                )
            value = list(dict.fromkeys(map(country_code, value)))
    elif needs in (engine.NUMBER, engine.DAYS):
        value = _number(text, words, needs)
    elif needs == engine.RANGE:
        parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
        if len(parts) != 2:
            raise ValueError(f"“{words}” needs {_HINTS[needs]}.")
        value = [_number(p, words, needs) for p in parts]
    problem = engine.value_problem(operator, value)
    if problem:
        raise ValueError(problem)
    return value


def _number(text: str, words: str, needs: str) -> int | float:
    amount = engine.number(text)
    if amount is None or amount != amount or amount in (float("inf"), float("-inf")):
        raise ValueError(f"“{text}” is not a number; “{words}” needs {_HINTS[needs]}.")
    return int(amount) if float(amount).is_integer() else float(amount)


def value_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class AvailabilityForm(forms.ModelForm):
    """When a rep takes leads, for every queue: their pause switch, days and hours."""

    work_days = forms.TypedMultipleChoiceField(
        choices=list(enumerate(WEEKDAYS)),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Working days",
        help_text="None ticked: every day.",
    )

    class Meta:
        model = Availability
        fields = ["paused", "time_zone", "work_days", "starts", "ends"]
        labels = {
            "paused": "Paused: give me no new leads",
            "time_zone": "Time zone",
            "starts": "Day starts at",
            "ends": "Day ends at",
        }
        help_texts = {
            "time_zone": "Where the rep works, e.g. Europe/Berlin or America/Sao_Paulo.",
            "starts": "Blank, with the end blank too: all day.",
        }
        widgets = {
            "time_zone": TimeZoneInput,
            "starts": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "ends": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def clean_time_zone(self) -> str:
        name = self.cleaned_data["time_zone"].strip()
        if not is_time_zone(name):
            raise forms.ValidationError(
                f"“{name}” is not a time zone; use a name such as Europe/Berlin."
            )
        return name

    def clean(self) -> dict:
        cleaned = super().clean()
        starts, ends = cleaned.get("starts"), cleaned.get("ends")
        if (starts is None) != (ends is None):
            self.add_error("ends", "Give both the start and the end of the day, or neither.")
        elif starts is not None and starts >= ends:
            self.add_error("ends", "The day must end after it starts.")
        return cleaned


class AbsenceForm(forms.ModelForm):
    class Meta:
        model = Absence
        fields = ["first_day", "last_day", "note"]
        labels = {"first_day": "Away from", "last_day": "Back after", "note": "Note"}
        help_texts = {
            "first_day": "Out of office: both days included; no leads from any queue then.",
            "note": "Optional, e.g. Holiday.",
        }
        widgets = {
            "first_day": forms.DateInput(attrs={"type": "date"}),
            "last_day": forms.DateInput(attrs={"type": "date"}),
        }

    def clean(self) -> dict:
        cleaned = super().clean()
        first, last = cleaned.get("first_day"), cleaned.get("last_day")
        if first and last and last < first:
            self.add_error("last_day", "The last day away cannot come before the first.")
        return cleaned


class SimulateForm(forms.Form):
    lead = forms.IntegerField(
        required=False,
        min_value=1,
        label="A lead (its number)",
        help_text="The number in the lead's address, e.g. 1234 for /leads/1234/.",
    )
    attributes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Or type its attributes",
        help_text="One per line, as attribute: value, e.g. country: BR, company_size: 500, "
        "form: talk-to-sales, campaign: Spring, score: 80.",
    )

    def clean_attributes(self) -> dict:
        values = {}
        for n, line in enumerate(self.cleaned_data["attributes"].splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, value = line.partition(":")
            if not sep:
                key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(
                    f"Line {n} (“{line.strip()[:40]}”) is not attribute: value."
                )
            values[key.strip()] = value.strip()
        return values

    def clean(self) -> dict:
        cleaned = super().clean()
        if not self.errors and not cleaned.get("lead") and not cleaned.get("attributes"):
            raise forms.ValidationError("Give a lead's number or type some attributes.")
        return cleaned


WHAT_IF_DAYS = [(7, "the last 7 days"), (30, "the last 30 days"), (90, "the last 90 days")]


class WhatIfForm(ConditionRows, forms.Form):
    queue = forms.ModelChoiceField(queryset=Queue.objects.all(), label="Queue to change")
    priority = forms.IntegerField(
        required=False, min_value=0, help_text="Blank: as it is. Lowest is tried first."
    )
    strategy = forms.ChoiceField(
        required=False,
        choices=[("", "As it is"), *Queue.Strategy.choices],
        label="How reps take turns",
    )
    days = forms.TypedChoiceField(
        choices=WHAT_IF_DAYS, coerce=int, initial=30, label="Replay the leads of"
    )

    def __init__(self, *args, queue: Queue | None = None, **kwargs):
        """Unbound with `queue`: its rule as it is, to edit into a proposal."""
        super().__init__(*args, **kwargs)
        if queue is not None:
            self.initial.update(queue=queue.pk, priority=queue.priority)
        self.add_condition_rows(queue.conditions if queue is not None else [])

    def clean(self) -> dict:
        cleaned = super().clean()
        self.clean_condition_rows(cleaned)
        return cleaned

    def proposed(self) -> dict:
        """The queue's fields as proposed: the conditions always, the rest when given."""
        cleaned = self.cleaned_data
        proposed = {"conditions": cleaned["conditions"]}
        if cleaned.get("priority") is not None:
            proposed["priority"] = cleaned["priority"]
        if cleaned.get("strategy"):
            proposed["strategy"] = cleaned["strategy"]
        return proposed
