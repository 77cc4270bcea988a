from django import forms

from portal.notifications.models import Delivery, Kind


class PreferencesForm(forms.Form):
    """One choice per kind of notification: e-mail at once, in the daily digest, or none."""

    def __init__(self, *args, initial_choices: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        for kind in Kind:
            self.fields[kind.value] = forms.ChoiceField(
                label=kind.label,
                choices=Delivery.choices,
                initial=initial_choices[kind.value],
                widget=forms.RadioSelect,
            )
