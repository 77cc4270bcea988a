"""The sales manager's queue page: what a queue takes, in which order, and who works it."""

from django import forms

from leads.routing.models import Queue
from leads.routing.selectors import active_reps
from leads.routing.services import QUEUE_SETTINGS


class QueueForm(forms.ModelForm):
    match_values = forms.CharField(
        required=False,
        label="Values it takes",
        help_text="Comma-separated, compared without case, e.g. Brazil, Portugal.",
    )
    members = forms.ModelMultipleChoiceField(
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
        }
        help_texts = {
            "match_attribute": "The form field the rule reads, e.g. country; blank takes every "
            "lead.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = active_reps()
        # As the manager types them, also on a new queue (the model's [] would show as "[]").
        self.initial["match_values"] = ", ".join(map(str, self.instance.match_values))
        if self.instance.pk:
            self.initial["members"] = [m.rep_id for m in self.instance.members.all()]

    def clean_match_values(self) -> list[str]:
        return [
            value.strip() for value in self.cleaned_data["match_values"].split(",") if value.strip()
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("match_attribute") and not cleaned.get("match_values"):
            self.add_error(
                "match_values",
                "Name the values this queue takes, or leave the attribute blank to take every "
                "lead.",
            )
        return cleaned
