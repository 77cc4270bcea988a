"""Sales queues: which qualified leads each takes, its reps, and every assignment made."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from leads.routing.rules import QueueRule, condition_words, queue_rule
from portal.countries import country_names


class Queue(models.Model):
    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round_robin", "Round robin"
        WEIGHTED = "weighted", "Weighted (a share per rep)"
        LEAST_LOADED = "least_loaded", "Least loaded (fewest open leads)"

    name = models.CharField(max_length=200, unique=True)
    priority = models.PositiveSmallIntegerField(
        default=100, help_text="Queues are tried in this order, lowest first."
    )
    conditions = models.JSONField(
        default=list,
        blank=True,
        help_text="The rule: conditions on lead attributes that must all hold, judged by the "
        "agreement's engine (leads/routing/rules.py); none takes every lead.",
    )
    strategy = models.CharField(
        max_length=16, choices=Strategy.choices, default=Strategy.ROUND_ROBIN
    )
    capacity_per_rep = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most open leads a rep may hold; blank is no limit."
    )
    daily_cap_per_rep = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Most leads a rep gets from this queue in a day; blank is no limit.",
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

    @property
    def rule(self) -> QueueRule:
        return queue_rule(self.conditions)

    @property
    def is_catch_all(self) -> bool:
        return not self.conditions

    def rule_words(self) -> list[str]:
        """Each condition as the queue page says it: countries by name."""
        return [condition_words(shown_condition(c)) for c in self.conditions]

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

    def takes(self, attributes: dict) -> bool:
        return self.rule.takes(attributes)


def shown_condition(condition: dict) -> dict:
    value = condition.get("value")
    if condition.get("operator") == "country_in" and isinstance(value, list):
        return {**condition, "value": country_names(value)}
    return condition


class QueueMember(models.Model):
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="members")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_memberships"
    )
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    weight = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="The rep's share in a weighted queue: 2 gets twice the leads of 1.",
    )
    # Weighted turns (stride scheduling): the member with the lowest pass is next, and each
    # lead adds 1/weight to it. A member who joins starts at the lowest pass of the others.
    stride_pass = models.FloatField(default=0.0)
    # The rep's own caps in this queue, when the sales manager sets them: blank, the queue's.
    open_cap = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Most open leads this rep may hold; blank: the queue's cap.",
    )
    daily_cap = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Most leads this rep gets from this queue in a day; blank: the queue's cap.",
    )
    credits = models.PositiveSmallIntegerField(
        default=0,
        help_text="Leads owed to the rep (one per lead they rejected as invalid): the next "
        "leads they can take go to them first, whatever the strategy.",
    )

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

    def max_open(self, queue: Queue) -> int | None:
        """The open leads this member may hold: their own cap, else the queue's."""
        return self.open_cap if self.open_cap is not None else queue.capacity_per_rep

    def max_per_day(self, queue: Queue) -> int | None:
        return self.daily_cap if self.daily_cap is not None else queue.daily_cap_per_rep


class Membership(models.Model):
    """A spell of a rep in a queue at one weight: who was a member when, so a queue's fair
    share over a period counts the members of each day, not those of today. Written by
    `queue_save`; a change of weight ends one spell and starts another."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="memberships")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_spells"
    )
    weight = models.PositiveSmallIntegerField(default=1)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["queue", "started_at"]
        indexes = [models.Index(fields=["queue", "started_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["queue", "rep"],
                condition=models.Q(ended_at__isnull=True),
                name="membership_one_open_spell",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rep} in {self.queue} from {self.started_at}"


class Assignment(models.Model):
    """One lead given to one rep: by a queue's turn (routing), the escalation ladder, or a
    manager.

    The lead, queue and rep carry no foreign-key constraints in the database: each writer
    (`leads_route`, `leads_escalate`, `lead_reassign`) writes the assignment in the
    transaction that locks the lead and sets its owner to the same rep and its queue to the
    same queue (or keeps it), so the lead row's own constraints on `owner` and `queue` already
    hold those rows for the transaction and after it, and the lead is locked and written.
    PostgreSQL checked the three again for every assignment at commit (a tenth of routing's
    checks a lead, docs/performance.md). Django still cascades and protects on delete.
    """

    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.CASCADE, related_name="assignments", db_constraint=False
    )
    queue = models.ForeignKey(
        Queue,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assignments",
        db_constraint=False,
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assignments",
        db_constraint=False,
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
    # The fairness ledger counts a queue's assignments per rep; one the rep rejected as
    # invalid (spam, not a real person, duplicate) is credited back and not counted.
    credited = models.BooleanField(default=False)

    class Meta:
        ordering = ["-assigned_at"]
        indexes = [
            models.Index(
                fields=["queue", "assigned_at"],
                condition=models.Q(queue__isnull=False),
                name="assignment_queue_day_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.lead} to {self.rep}"


class Availability(models.Model):
    """When a rep takes leads, for every queue they are in: set once, by them or a manager.

    Working hours are on the rep's days, between `starts` and `ends`, in `time_zone`; no days
    ticked means every day, no hours means all day. Absences are `Absence` rows.
    """

    rep = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availability"
    )
    paused = models.BooleanField(
        default=False, help_text="Paused: no new leads until the switch is turned back."
    )
    time_zone = models.CharField(max_length=64, default=settings.TIME_ZONE)
    work_days = models.JSONField(
        default=list, blank=True, help_text="Weekdays 0 (Monday) to 6; none: every day."
    )
    starts = models.TimeField(null=True, blank=True)
    ends = models.TimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Availability of {self.rep}"


class Absence(models.Model):
    """A rep's out-of-office dates, both days included, in the rep's time zone."""

    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="absences"
    )
    first_day = models.DateField()
    last_day = models.DateField()
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["first_day"]
        indexes = [models.Index(fields=["rep", "last_day"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_day__gte=models.F("first_day")),
                name="absence_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rep} away {self.first_day} to {self.last_day}"
