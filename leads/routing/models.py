"""Sales queues: which qualified leads each takes, its reps, and every assignment made."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone

from portal.countries import country_attributes, country_names


class Queue(models.Model):
    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round_robin", "Round robin"

    name = models.CharField(max_length=200, unique=True)
    priority = models.PositiveSmallIntegerField(
        default=100, help_text="Queues are tried in this order, lowest first."
    )
    match_attribute = models.CharField(
        max_length=64, blank=True, help_text="Lead attribute the rule reads; blank takes all."
    )
    match_values = models.JSONField(default=list, blank=True)
    strategy = models.CharField(
        max_length=16, choices=Strategy.choices, default=Strategy.ROUND_ROBIN
    )
    capacity_per_rep = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most open leads a rep may hold; blank is no limit."
    )
    last_position = models.IntegerField(
        default=-1, help_text="Round-robin cursor: position of the member assigned last."
    )
    is_active = models.BooleanField(default=True)
    # The escalation ladder (leads/routing/escalation.py), set by the sales manager.
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_queues",
        help_text="Hears of every breach; a lead the ladder has passed on enough ends in "
        "their own list. Blank: the lead stays with its last rep.",
    )
    remind_percent = models.PositiveSmallIntegerField(
        default=50,
        validators=[MaxValueValidator(99)],
        help_text="Remind the rep when this share of a step's time has passed (0: never).",
    )
    max_reassignments = models.PositiveSmallIntegerField(
        default=2,
        validators=[MaxValueValidator(20)],
        help_text="At a breach the lead goes to the next rep in turn with room; after this "
        "many times, to the manager.",
    )
    escalate_off_hours = models.BooleanField(
        default=False,
        help_text="Remind and escalate outside working hours too (a team that works then).",
    )
    # The queue's own working hours: its due times count these, and its ladder fires within
    # them. Blank time zone: the agreement's hours (the default).
    business_days = models.JSONField(
        default=list, blank=True, help_text="Working days, 0 = Monday … 6 = Sunday."
    )
    business_opens = models.TimeField(null=True, blank=True)
    business_closes = models.TimeField(null=True, blank=True)
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        help_text="The queue's time zone, e.g. America/Sao_Paulo; blank: the agreement's "
        "working hours and time zone.",
    )

    class Meta:
        ordering = ["priority", "name"]

    def __str__(self) -> str:
        return self.name

    def own_hours(self) -> tuple[frozenset[int], object, object, str] | None:
        """(working days, opens, closes, time zone) when the queue sets its own; else None."""
        if not self.time_zone:
            return None
        return (
            frozenset(self.business_days),
            self.business_opens,
            self.business_closes,
            self.time_zone,
        )

    def match_words(self) -> str:
        """The values the rule takes, as the queue page shows them: countries by name."""
        values = self.match_values
        if self.match_attribute in country_attributes():
            values = country_names(values)
        return ", ".join(map(str, values))

    def takes(self, attributes: dict) -> bool:
        if not self.match_attribute:
            return True
        value = attributes.get(self.match_attribute)
        return str(value).casefold() in {str(v).casefold() for v in self.match_values}


class QueueMember(models.Model):
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="members")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_memberships"
    )
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["queue", "position"]
        constraints = [
            models.UniqueConstraint(fields=["queue", "rep"], name="queuemember_unique_rep"),
            models.UniqueConstraint(
                fields=["queue", "position"], name="queuemember_unique_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rep} in {self.queue}"


class Assignment(models.Model):
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="assignments")
    queue = models.ForeignKey(
        Queue, null=True, blank=True, on_delete=models.PROTECT, related_name="assignments"
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The manager who reassigned the lead; blank when a queue assigned it.",
    )

    class Meta:
        ordering = ["-assigned_at"]

    def __str__(self) -> str:
        return f"{self.lead} to {self.rep}"
