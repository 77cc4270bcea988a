"""What the kernel tells the handoff. Sent inside the transaction that made the change;
`leads.handoff` decides what follows (on commit). Capture never imports what comes after it.
"""

from django.dispatch import Signal

# A submission and its lead were stored. Sent with `submission`.
submission_stored = Signal()
