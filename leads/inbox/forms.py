"""One form per move on the lead page. Field names are the keyword arguments of the service
the move calls, so a view passes `cleaned_data` straight through and a refusal from the
service lands on the field it names."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from leads.inbox.services import NOTE_MAX_LENGTH
from leads.models import ContactChannel, Lead, LostReason, RejectionReason, Stage
from leads.routing.selectors import active_reps
from scoring.flags import flag_judgement

NONE_FITS = "none"


def _note(label: str, *, help_text: str = "", required: bool = False) -> forms.CharField:
    return forms.CharField(
        required=required,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=label,
        help_text=help_text,
    )


class LeadForm(forms.Form):
    """A move's form knows the lead it is about, so its choices can depend on it."""

    def __init__(self, *args, lead: Lead, **kwargs):
        super().__init__(*args, **kwargs)
        self.lead = lead


class _OtherNeedsNote(LeadForm):
    """A reason from a list whose "other" must be said in the note."""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reason") == "other" and not cleaned.get("note", "").strip():
            self.add_error("note", "Say what the other reason is.")
        return cleaned


class AcceptForm(LeadForm):
    pass


class RejectForm(_OtherNeedsNote):
    reason = forms.ChoiceField(
        choices=[("", "Choose a reason…"), *RejectionReason.choices],
        label="Why are you rejecting it?",
    )
    note = _note("Note for marketing", help_text="Required when the reason is “Other”.")


class ContactForm(LeadForm):
    channel = forms.ChoiceField(
        choices=ContactChannel.choices, widget=forms.RadioSelect, label="How did you reach them?"
    )
    note = _note("What came of it", help_text="Optional.")


class ConvertForm(LeadForm):
    note = _note("What makes it an opportunity", help_text="Optional: need, budget, timing.")


class WinForm(LeadForm):
    note = _note("Note", help_text="Optional: the contract, the amount, what tipped it.")


class LoseForm(_OtherNeedsNote):
    reason = forms.ChoiceField(
        choices=[("", "Choose a reason…"), *LostReason.choices], label="Why was it lost?"
    )
    note = _note("Note", help_text="Required when the reason is “Other”.")


class RecycleForm(LeadForm):
    until = forms.DateField(
        label="Back to sales on",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="A day after today.",
    )
    note = _note("Why not now", help_text="Optional.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        tomorrow = timezone.localdate() + timedelta(days=1)
        self.fields["until"].widget.attrs["min"] = tomorrow.isoformat()

    def clean_until(self):
        until = self.cleaned_data["until"]
        if until <= timezone.localdate():
            raise forms.ValidationError("Choose a day after today for the lead to come back.")
        return until


class NoteForm(LeadForm):
    text = _note("Note", required=True)


class ReassignForm(LeadForm):
    to_rep = forms.ModelChoiceField(
        queryset=active_reps(), label="Give it to", empty_label="Choose a rep…"
    )
    reason = forms.CharField(
        max_length=500, label="Why does it change hands?", help_text="Both reps see this."
    )

    def __init__(self, *args, lead: Lead, **kwargs):
        super().__init__(*args, lead=lead, **kwargs)
        reps = active_reps()
        # A rejected lead may go back to the rep who rejected it; any other already is theirs.
        if lead.stage != Stage.REJECTED and lead.owner_id:
            reps = reps.exclude(pk=lead.owner_id)
        self.fields["to_rep"].queryset = reps


class FlagForm(LeadForm):
    """ "This should not have qualified": which of the criteria the lead passed let it through."""

    criterion = forms.ChoiceField(
        widget=forms.RadioSelect, label="Which criterion should not have let it through?"
    )
    comment = _note(
        "What is wrong with it",
        required=True,
        help_text="Marketing reads this with the flags on the criterion.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _judgement, passed = flag_judgement(lead=self.lead)
        self.criteria = {str(criterion.pk): criterion for criterion in passed}
        self.fields["criterion"].choices = [
            *((pk, criterion.label) for pk, criterion in self.criteria.items()),
            (NONE_FITS, "None fits: the agreement lacks the rule that would have kept it out"),
        ]

    def clean_criterion(self):
        chosen = self.cleaned_data["criterion"]
        return None if chosen == NONE_FITS else self.criteria[chosen]
