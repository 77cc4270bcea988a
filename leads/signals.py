"""What the kernel tells the handoff. Sent inside the transaction that made the change;
`leads.handoff` decides what follows (on commit). Capture never imports what comes after it.
"""

from django.dispatch import Signal

# A submission and its lead were stored. Sent with `submission`.
submission_stored = Signal(use_caching=True)

# Leads became qualified outside the handoff's scoring (a re-scoring), a batch at a time: sent
# once per batch, with `lead_ids`, so that routing follows without waiting for beat.
leads_qualified = Signal()

# A queue's working hours or reminder share changed: its running clocks are counted again
# (scoring's recount, with its progress row). Sent with `queue_id` and `queue_name`.
queue_clocks_changed = Signal()

# Leads left the open stages of the reps who held them (won, lost, rejected, nurtured): those
# reps may have room for a lead waiting in a queue's pool. Sent with `rep_ids`.
reps_freed = Signal()
