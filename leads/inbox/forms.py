from django import forms

from leads.models import RejectionReason


class RejectForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[("", "Choose a reason…"), *RejectionReason.choices],
        label="Why are you rejecting it?",
    )
    note = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Note for marketing",
        help_text="Required when the reason is “Other”.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reason") == RejectionReason.OTHER and not cleaned.get("note", "").strip():
            self.add_error("note", "Say what the other reason is.")
        return cleaned
