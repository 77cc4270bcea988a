"""The roll-up `LeadFacts`: one row per lead, recounted from the lead, its first submission,
its events and its judgements in force whenever one of them changed. Two halves:

**Marks, in the writer's transaction.** Triggers on every table the facts read (leads,
submissions, lead events, judgements, criterion results) write the ids of the leads a
statement touched into `dashboard_factsstale` (`FactsStale`), whichever code wrote them (the
lifecycle's services, the routing's batch statements, an import's COPY, a test's factory).
Why triggers: a consumer that followed the events' ids would miss an event committed after a
later id (house rules), a Python hook would be skipped by any bulk write, and a mark written
in the writer's transaction commits with the change or rolls back with it, so nothing
committed is ever missed. On PostgreSQL each trigger runs once per statement over its
transition table (one `INSERT ... SELECT DISTINCT ... ON CONFLICT DO NOTHING`), on SQLite
once per row (`INSERT OR IGNORE`).

Until December 2026 the triggers wrote the facts themselves, in the handoff's transactions:
each lead's row five times (lead, submission, events, lead update, judgements), 0.94 ms of
PostgreSQL a lead without them, 2.05 ms with them (docs/performance.md). A mark is a small
insert; the counting moved out of the hot transactions.

**The fold, after.** `facts_fold` takes a batch of marked leads (deleting their marks) and
recounts their rows with the set-based recount `rebuild_sql`, restricted to them, in one
transaction. It runs on beat every few seconds on the bulk queue (`tasks.fold_facts`: the
handoff's batches, web actions, imports), never in the handoff worker (folding there after
each round cut the backlog's drain from 1,281 to 978 leads/s, docs/performance.md), and
before every read (`facts_fresh`, from the selectors), so a reader sees every change
committed before it read.

Why a mark is (lead, the writer's transaction id) on PostgreSQL, not the lead alone: with one
mark per lead, a writer whose statement met a committed mark would leave it, a fold could
take that mark and recount without the writer's change (not yet committed), and the change
would never be folded. Keyed by transaction, a writer only ever meets its own marks (one per
lead however many statements), never waits on another's, and a fold sees only marks whose
changes are committed. Why folds take turns (a transaction-scoped advisory lock): two folds
recounting one lead at once could commit the older count last. The lock is taken before
the fold's statements, so its recount reads everything committed before it got the lock,
the previous fold's rows too. The worker and beat skip a fold while another runs (the marks
wait for the next); a reader waits for it, then folds what is left. SQLite has one writer at
a time: its marks carry transaction 0, and the fold's first statement takes the write lock.

`facts_rebuild()` recounts every row in one statement (the backfill, and what a test compares
the folded rows with) and drops every mark. The triggers are installed after `migrate`
(`after_migrate`) by their version's digest, never by a migration: docs/development.md.
"""

import hashlib
import json
import logging
import re

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from leads.locks import key_locked, key_try_locked
from portal.sql import Prepared

logger = logging.getLogger(__name__)

# The furthest main stage an event into a stage proves: selectors.PROVES, in SQL.
RANK = (
    "CASE {to} WHEN 'qualified' THEN 1 WHEN 'routed' THEN 2 WHEN 'rejected' THEN 2 "
    "WHEN 'accepted' THEN 3 WHEN 'contacted' THEN 4 WHEN 'opportunity' THEN 5 "
    "WHEN 'lost' THEN 5 WHEN 'won' THEN 6 ELSE 0 END"
)
EXITS = ("disqualified", "rejected", "recycled", "lost")
# The lead's own columns, copied: (facts column, lead column).
OWN = [
    ("created_at", "created_at"),
    ("form_id", "source_form_id"),
    ("campaign", "campaign"),
    ("queue_id", "queue_id"),
    ("owner_id", "owner_id"),
    ("stage", "stage"),
    ("first_action_at", "first_action_at"),
    # The service levels' steps (leads.clock): due, done, the rep who held the lead.
    ("accept_due_at", "accept_due_at"),
    ("accept_met_at", "accept_met_at"),
    ("accept_rep_id", "accept_rep_id"),
    ("contact_due_at", "contact_due_at"),
    ("contact_met_at", "contact_met_at"),
    ("contact_rep_id", "contact_rep_id"),
]
PROVED = ["furthest", *EXITS, "routed_at", "contacted_at", "rejected_reasons", "lost_reasons"]
REASONED = {"rejected_reasons": "rejected", "lost_reasons": "lost"}
# What the lead's judgements in force say (one per submission): "agreement:score:1|0" each,
# and the criteria any of them failed, comma-separated ("" when none).
JUDGED = ["judgements", "failed_criteria"]
COLUMNS = ", ".join(["lead_id", *(f for f, _ in OWN), "source", *PROVED, *JUDGED])
# A lead update the facts must follow (any other marks nothing).
WATCHED = [column for _, column in OWN] + ["attributes"]

STALE = "dashboard_factsstale"
# Leads a fold takes at once: one transaction, about 0.1 ms of PostgreSQL a lead.
FOLD_LIMIT = 1000
FOLD_LOCK = "dashboard-facts-fold"


def _source(vendor: str, lead: str) -> str:
    """The lead's source for the lead row aliased `lead`: its first submission's UTM
    source, else the `utm_source`, `origin` or `source` an import stored in its attributes."""
    if vendor == "postgresql":
        first = (
            "(SELECT s.utm ->> 'utm_source' FROM leads_submission s WHERE s.lead_id = {l}.id "
            "ORDER BY s.received_at, s.id LIMIT 1)"
        )
        attribute = "{l}.attributes ->> '{key}'"
    else:
        first = (
            "(SELECT json_extract(s.utm, '$.utm_source') FROM leads_submission s "
            "WHERE s.lead_id = {l}.id ORDER BY s.received_at, s.id LIMIT 1)"
        )
        attribute = "json_extract({l}.attributes, '$.{key}')"
    said = [first.format(l=lead)] + [
        attribute.format(l=lead, key=key) for key in ("utm_source", "origin", "source")
    ]
    return "COALESCE(" + ", ".join(f"NULLIF(CAST({s} AS TEXT), '')" for s in said) + ", '')"


def _changed(old: str, new: str, differ: str) -> str:
    return " OR ".join(f"{old}.{c} {differ} {new}.{c}" for c in WATCHED)


# The lead's judgements in force (`scoring.Qualification`, not superseded) and the criteria
# they failed.
JUDGEMENT = "q.agreement_id || ':' || q.score || ':' || CASE WHEN q.qualified THEN 1 ELSE 0 END"
IN_FORCE = "FROM scoring_qualification q WHERE {only}q.superseded_at IS NULL"
FAILED = (
    "FROM scoring_qualification q JOIN scoring_criterionresult r ON r.qualification_id = q.id "
    "WHERE {only}q.superseded_at IS NULL AND NOT r.passed"
)


def _lists(vendor: str) -> tuple[str, str]:
    """(the judgements' list aggregate, the failed criteria's distinct list aggregate)."""
    if vendor == "postgresql":
        return (
            f"string_agg({JUDGEMENT}, ',' ORDER BY q.id)",
            "string_agg(DISTINCT r.criterion_id::text, ',' ORDER BY r.criterion_id::text)",
        )
    return f"group_concat({JUDGEMENT}, ',')", "group_concat(DISTINCT r.criterion_id)"


# The marks: (trigger, table, statement, the lead id a written row `n` names, when it counts:
# a condition on `n` and, for a lead updated, its row before `o`). The criterion results name
# their judgement's lead; only a failed one changes the facts.
RESULT_LEAD = "(SELECT q.lead_id FROM scoring_qualification q WHERE q.id = n.qualification_id)"
MARKS = [
    (
        "dashboard_leadfacts_event",
        "leads_leadevent",
        "INSERT",
        "n.lead_id",
        "n.kind IN ('stage_changed', 'contact_logged')",
    ),
    # The demo backdates its events (portal.demo.services._backdate).
    ("dashboard_leadfacts_event_changed", "leads_leadevent", "UPDATE", "n.lead_id", ""),
    ("dashboard_leadfacts_lead", "leads_lead", "INSERT", "n.id", ""),
    ("dashboard_leadfacts_change", "leads_lead", "UPDATE", "n.id", "{changed}"),
    ("dashboard_leadfacts_submission", "leads_submission", "INSERT", "n.lead_id", ""),
    ("dashboard_leadfacts_judgement", "scoring_qualification", "INSERT", "n.lead_id", ""),
    # Superseded by a re-scoring.
    ("dashboard_leadfacts_judgement_changed", "scoring_qualification", "UPDATE", "n.lead_id", ""),
    (
        "dashboard_leadfacts_result",
        "scoring_criterionresult",
        "INSERT",
        RESULT_LEAD,
        "NOT n.passed",
    ),
]


def _postgresql_install() -> list[str]:
    sql = []
    for name, table, when, lead, condition in MARKS:
        rows = "changed n"
        transition = "NEW TABLE AS changed"
        if "{changed}" in condition:
            rows += " JOIN before o ON o.id = n.id"
            transition = "OLD TABLE AS before NEW TABLE AS changed"
            condition = condition.format(changed=_changed("o", "n", "IS DISTINCT FROM"))
        where = f" WHERE {condition}" if condition else ""
        # Once per statement: the handoff writes a batch's leads, events and judgements with
        # one statement each. A trigger with transition tables takes no column list: every
        # UPDATE of leads runs it, and it marks only the leads whose watched columns changed.
        sql += [
            f"""
            CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO {STALE} (lead_id, tx)
                SELECT lead_id, txid_current() FROM (SELECT DISTINCT {lead} AS lead_id
                FROM {rows}{where}) marked
                ON CONFLICT DO NOTHING;
                RETURN NULL;
            END $$
            """,
            f"CREATE TRIGGER {name} AFTER {when} ON {table} REFERENCING {transition} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    return sql


def _sqlite_install() -> list[str]:
    sql = []
    for name, table, when, lead, condition in MARKS:
        on = when
        if "{changed}" in condition:
            on = f"UPDATE OF {', '.join(WATCHED)}"
            condition = condition.format(changed=_changed("o", "n", "IS NOT"))
        condition = re.sub(r"\bo\.", "OLD.", re.sub(r"\bn\.", "NEW.", condition))
        lead = re.sub(r"\bn\.", "NEW.", lead)
        only = f" WHEN {condition}" if condition else ""
        sql.append(
            f"CREATE TRIGGER {name} AFTER {on} ON {table}{only} "
            f"BEGIN INSERT OR IGNORE INTO {STALE} (lead_id, tx) VALUES ({lead}, 0); END"
        )
    return sql


TRIGGERS = [(name, table) for name, table, _, _, _ in MARKS]
FUNCTIONS = [
    *(name for name, _, _, _, _ in MARKS),
    # Those of the triggers that wrote the facts themselves, dropped on the way up.
    "dashboard_leadfacts_events",
    "dashboard_leadfacts_leads",
    "dashboard_leadfacts_recount",
]
# The tables the triggers watch (the bench turns them off while it stores a million leads).
WATCHED_TABLES = sorted({table for _, table in TRIGGERS})


def install_sql(vendor: str) -> list[str]:
    return _postgresql_install() if vendor == "postgresql" else _sqlite_install()


def version(vendor: str) -> str:
    """A digest of the triggers' SQL and the facts' columns: installed ones that differ are
    out of date, and so is every row they kept."""
    said = "\n".join([COLUMNS, rebuild_sql(vendor), *install_sql(vendor)])
    return hashlib.sha256(said.encode()).hexdigest()[:16]


def facts_install(conn) -> None:
    """(Re)create the triggers on this connection, recording their version."""
    facts_uninstall(conn)
    with conn.cursor() as cursor:
        for sql in install_sql(conn.vendor):
            cursor.execute(sql)
        if conn.vendor == "postgresql":
            said = f"triggers {version(conn.vendor)}"
            cursor.execute(f"COMMENT ON TABLE dashboard_leadfacts IS '{said}'")


def facts_uninstall(conn) -> None:
    with conn.cursor() as cursor:
        for name, table in TRIGGERS:
            on = f" ON {table}" if conn.vendor == "postgresql" else ""
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}{on}")
        if conn.vendor == "postgresql":
            for name in FUNCTIONS:
                cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")


def facts_installed_version(conn) -> str:
    """The version of the triggers installed ("" if none, or on SQLite: never recorded)."""
    if conn.vendor != "postgresql":
        return ""
    with conn.cursor() as cursor:
        cursor.execute("SELECT obj_description(to_regclass('dashboard_leadfacts'), 'pg_class')")
        said = cursor.fetchone()[0] or ""
    return said.removeprefix("triggers ")


def _events_counted(vendor: str) -> tuple[str, str]:
    """(aggregates over a lead's events `e`, what each facts column PROVED reads of them)."""
    stage = "e.kind = 'stage_changed'"
    flags = ", ".join(
        f"max(CASE WHEN {stage} AND e.to_stage = '{f}' THEN 1 ELSE 0 END) AS {f}" for f in EXITS
    )
    contact = f"(e.kind = 'contact_logged' OR ({stage} AND e.to_stage = 'contacted'))"
    concat = (
        "string_agg(DISTINCT {x}, ',')" if vendor == "postgresql" else "group_concat(DISTINCT {x})"
    )
    went = "CASE WHEN e.kind = 'stage_changed' AND e.to_stage = '{to}' THEN e.reason_code END"
    codes = "".join(
        f", {concat.format(x=went.format(to=to))} AS {column}" for column, to in REASONED.items()
    )
    counted = (
        f"max(CASE WHEN {stage} THEN {RANK.format(to='e.to_stage')} ELSE 0 END) AS furthest, "
        f"{flags}, "
        f"min(CASE WHEN {stage} AND e.to_stage = 'routed' THEN e.at END) AS routed_at, "
        f"min(CASE WHEN {contact} THEN e.at END) AS contacted_at{codes}"
    )
    read = ", ".join(f"COALESCE(e.{f}, 0) = 1" for f in EXITS)
    reasons = ", ".join(f"',' || COALESCE(e.{column} || ',', '')" for column in REASONED)
    return counted, f"COALESCE(e.furthest, 0), {read}, e.routed_at, e.contacted_at, {reasons}"


def _among(vendor: str) -> str:
    """`IN` the leads of the fold's parameter (a list on PostgreSQL, JSON on SQLite)."""
    return "= ANY(%s)" if vendor == "postgresql" else "IN (SELECT value FROM json_each(%s))"


def rebuild_sql(vendor: str, *, some: bool = False, among: str = "") -> str:
    """Every lead's facts recounted from the lead, its events and its judgements: one
    statement. `some`: only the leads of its four parameters (each the same list, `_among`;
    or `among`, an SQL `IN`), their rows replaced (the fold)."""
    counted, read = _events_counted(vendor)
    own = ", ".join(f"l.{column}" for _, column in OWN)
    judgements, failed = _lists(vendor)
    among = among or _among(vendor)
    lead, events, judged = (
        (f"WHERE l.id {among}", f"e.lead_id {among} AND ", f"q.lead_id {among} AND ")
        if some
        else ("", "", "")
    )
    replaced = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS.split(", ")[1:])
    return f"""
        INSERT INTO dashboard_leadfacts ({COLUMNS})
        SELECT l.id, {own}, {_source(vendor, "l")}, {read},
            COALESCE(j.judgements, ''), COALESCE(f.failed, '')
        FROM leads_lead l LEFT JOIN (
            SELECT e.lead_id, {counted}
            FROM leads_leadevent e
            WHERE {events}e.kind IN ('stage_changed', 'contact_logged')
            GROUP BY e.lead_id
        ) e ON e.lead_id = l.id
        LEFT JOIN (
            SELECT q.lead_id, {judgements} AS judgements {IN_FORCE.format(only=judged)}
            GROUP BY q.lead_id
        ) j ON j.lead_id = l.id
        LEFT JOIN (
            SELECT q.lead_id, {failed} AS failed {FAILED.format(only=judged)} GROUP BY q.lead_id
        ) f ON f.lead_id = l.id
        {lead}
        {f"ON CONFLICT (lead_id) DO UPDATE SET {replaced}" if some else ""}
    """


# PostgreSQL's fold, planned once per connection: planning the recount of 1,000 leads took
# 28 ms, a sixth of running it.
FOLD = Prepared(
    "dashboard_facts_fold", lambda: rebuild_sql("postgresql", some=True, among="= ANY($1)"), 1
)
# The marked leads a fold takes, their marks deleted: the first `limit` by id. On PostgreSQL
# the ids are read once, into an array, before the delete: as `IN (subquery)` the planner may
# join the marks to the subquery by a nested loop that reads the first `limit` ids again for
# every mark, and it does so whenever the table was analysed empty, which a queue drained by
# every fold often is (at 20,000 marks one fold took 26 s; tested).
CLAIM = {
    "postgresql": (
        f"DELETE FROM {STALE} WHERE lead_id = ANY (ARRAY(SELECT DISTINCT lead_id FROM {STALE} "
        "ORDER BY lead_id LIMIT %s)) RETURNING lead_id"
    ),
    "sqlite": (
        f"DELETE FROM {STALE} WHERE lead_id IN (SELECT DISTINCT lead_id FROM {STALE} "
        "ORDER BY lead_id LIMIT %s) RETURNING lead_id"
    ),
}


def facts_fold(*, limit: int = FOLD_LIMIT, wait: bool = True, using: str = DEFAULT_DB_ALIAS):
    """Recount the facts of up to `limit` marked leads, in one transaction: the number of
    leads folded. `wait`: wait for another fold under way (a reader); otherwise None at once
    while one runs (the worker, beat: their marks wait for the next fold)."""
    conn = connections[using]
    with transaction.atomic(using=using):
        if wait:
            key_locked(FOLD_LOCK)
        elif not key_try_locked(FOLD_LOCK):
            return None
        with conn.cursor() as cursor:
            cursor.execute(CLAIM[conn.vendor], [limit])
            leads = sorted({lead for (lead,) in cursor.fetchall()})
            if leads and conn.vendor == "postgresql":
                FOLD.execute(cursor, [leads])
            elif leads:
                cursor.execute(rebuild_sql(conn.vendor, some=True), [json.dumps(leads)] * 4)
    return len(leads)


def facts_fresh(using: str = DEFAULT_DB_ALIAS) -> None:
    """Fold every mark committed before now (a reader's first step): one query when there is
    none. A mark still there is a change committed and not folded, or one a fold under way
    is folding (its delete not committed yet): either way this waits for that fold, then
    folds the rest."""
    conn = connections[using]
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {STALE})")
        if not cursor.fetchone()[0]:
            return
    while facts_fold(using=using) == FOLD_LIMIT:
        pass


def facts_rebuild(using_connection=None) -> int:
    """Recount every lead's facts from its events (replacing what the folds kept) and drop
    every mark; the number of leads."""
    conn = using_connection or connection
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        key_locked(FOLD_LOCK)
        # Marks first: a change committed after this statement keeps its mark and is folded
        # again, harmlessly; one committed before is in the recount, a later statement.
        cursor.execute(f"DELETE FROM {STALE}")
        if conn.vendor != "postgresql":
            cursor.execute("DELETE FROM dashboard_leadfacts")
            cursor.execute(rebuild_sql(conn.vendor))
            return cursor.rowcount
        # TRUNCATE leaves no million dead rows behind (the pages refilled to fillfactor); it
        # refuses a table with foreign-key checks still deferred in this transaction.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE dashboard_leadfacts")
        cursor.execute(rebuild_sql(conn.vendor))
        found = cursor.rowcount
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        return found


def _ready(conn) -> bool:
    """The facts' table is there with every column, and the marks' table (a migrate may stop
    before the dashboard's last migration)."""
    with conn.cursor() as cursor:
        tables = conn.introspection.table_names(cursor)
        if "dashboard_leadfacts" not in tables or STALE not in tables:
            return False
        found = conn.introspection.get_table_description(cursor, "dashboard_leadfacts")
    return {column.name for column in found} >= {c.strip() for c in COLUMNS.split(",")}


def before_migrate(*, using: str, plan=None, **kwargs) -> None:
    """On SQLite the triggers are off while migrations run: SQLite alters a table by making
    a new one, copying, dropping the old and renaming, and a trigger naming a table in the
    middle of that stops the migration (or goes with the dropped table)."""
    conn = connections[using]
    if conn.vendor == "sqlite" and plan:
        facts_uninstall(conn)


def after_migrate(*, using: str, plan=None, **kwargs) -> None:
    """After `migrate`: the triggers (re)installed and every row recounted, when SQLite ran
    migrations without them, or when the installed version differs from this code's (on
    PostgreSQL they stay in place while migrations run). A migration never installs them,
    so no migration needs to know about them. A flush (plan None) changes nothing."""
    conn = connections[using]
    if plan is None or not _ready(conn):
        return
    if conn.vendor == "sqlite" and not plan:
        return
    if conn.vendor != "sqlite" and facts_installed_version(conn) == version(conn.vendor):
        return
    with transaction.atomic(using=using):
        facts_install(conn)
        facts_rebuild(conn)
