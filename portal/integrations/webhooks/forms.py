from django import forms

from portal.integrations.webhooks.event_types import KIND_CHOICES


class EndpointForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What it is, e.g. “CRM sync”.")
    url = forms.CharField(
        label="URL",
        max_length=500,
        help_text="Where LeadBridge posts the events, e.g. https://crm.example.com/hooks/leads.",
    )
    kinds = forms.MultipleChoiceField(
        label="Events",
        choices=KIND_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text="Which events it receives.",
    )
