from django.apps import AppConfig


class InboxConfig(AppConfig):
    """The rep's qualified-lead inbox and the lead page where every move is made."""

    name = "leads.inbox"
    label = "inbox"
    verbose_name = "Inbox"
