"""The progress of the bulk work an agreement or a queue change starts, for managers to watch:
re-scoring the open leads after a version becomes active, and counting the running clocks
again after the service levels or a queue's working hours change. One row per run, its
`done` of `total` polled by the page that shows it (scoring/_progress.html)."""

from django.db import models
from django.utils import timezone


class RescoreRun(models.Model):
    """One run over many leads in primary-key order: a re-scoring of the open leads not yet
    routed by a version that became active, or a recount of the running clocks.

    `cursor` is the last lead done, so a task that died is resumed where it stopped, and no
    lead is done twice by one run.
    """

    class Kind(models.TextChoices):
        LEADS = "leads", "Open leads judged again"
        CLOCKS = "clocks", "Due times counted again"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.LEADS)
    agreement = models.ForeignKey(
        "scoring.Agreement",
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        help_text="The version that judges the leads again (a re-scoring).",
    )
    # Routing's queue, by id: scoring and routing never import each other.
    queue_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="A recount of one queue's clocks only; else every one."
    )
    why = models.CharField(max_length=200, blank=True, help_text="What started it, in words.")
    total = models.PositiveIntegerField(default=0, help_text="Leads to do when it started.")
    done = models.PositiveIntegerField(default=0)
    qualified = models.PositiveIntegerField(
        default=0, help_text="Leads the new version qualified: handed on to routing."
    )
    cursor = models.BigIntegerField(default=0, help_text="The last lead done.")
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The sweeper's (scoring.resume): a run with no progress for a while is sent again, and
    # after a few sends that moved nothing it stops, unfinished, with the reason.
    resumed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the sweeper last sent it again."
    )
    resumes = models.PositiveSmallIntegerField(
        default=0, help_text="Times it was sent again since it last moved."
    )
    error = models.CharField(
        max_length=300, blank=True, help_text="What its last task raised, if it raised."
    )
    failure = models.CharField(
        max_length=400, blank=True, help_text="Why it stopped unfinished (then finished_at)."
    )

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.title}: {self.done} of {self.total}"

    @property
    def percent(self) -> int:
        if self.failure:
            return min(99, self.done * 100 // self.total) if self.total else 0
        if self.finished_at is not None or not self.total:
            return 100
        return min(99, self.done * 100 // self.total)

    @property
    def anchor(self) -> str:
        """Its section's id on a page (`#rescore`, `#clocks`)."""
        return "clocks" if self.kind == self.Kind.CLOCKS else "rescore"

    @property
    def title(self) -> str:
        if self.kind == self.Kind.CLOCKS:
            return f"Counting the due times again: {self.why}" if self.why else "Due times"
        return f"Re-scoring the open leads by v{self.agreement.version}"

    @property
    def words(self) -> str:
        """Where it stands, in a sentence (the page, and the progress it polls)."""
        done = min(self.done, self.total) if self.finished_at is None else self.done
        if self.failure:
            return f"Stopped at {done} of {self.total}: {self.failure}"
        if self.kind == self.Kind.CLOCKS:
            if self.finished_at is not None:
                return f"Done: the due times of {done} open lead{_s(done)} counted again."
            return f"{done} of {self.total} open leads' due times counted again so far."
        if self.finished_at is not None:
            return (
                f"Done: {done} of {self.total} disqualified lead{_s(self.total)} judged again; "
                f"{self.qualified} now qualif{'ies' if self.qualified == 1 else 'y'} and "
                f"go{'es' if self.qualified == 1 else ''} to routing."
            )
        return (
            f"{done} of {self.total} disqualified leads judged again so far; "
            f"{self.qualified} now qualify."
        )

    @property
    def resumed_words(self) -> str:
        """The sweeper's mark on the page: "" if it never had to send the run again."""
        if self.resumed_at is None:
            return ""
        at = timezone.localtime(self.resumed_at)
        return f"Resumed at {at:%d %b %Y, %H:%M} after it stopped moving."


def _s(count: int) -> str:
    return "" if count == 1 else "s"
