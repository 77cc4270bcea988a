"""The roll-up `LeadFacts`: one row per lead, kept by triggers from the lead events and
judgements.

Why triggers: the row must change in the same transaction as the event it summarises,
whichever code wrote the event (the lifecycle's services, the routing's batch INSERTs, an
import's COPY, a test's factory). A consumer that followed the events' ids would miss an
event committed after a later id (house rules), and a Python hook would be skipped by any
bulk write. Each trigger does constant work per row: a stage event raises `furthest`, sets an
exit flag or keeps the earliest time; a lead or submission written recomputes the source; a
judgement written or superseded, or a failed criterion result, recounts its lead's few
judgements in force. On PostgreSQL the triggers on new events, lead updates, judgements and
criterion results run once per statement over its transition tables (the handoff writes a
batch's leads, events and judgements with one statement each).

`facts_rebuild()` recounts every row in one set-based statement (the backfill, and the raw
computation a test compares the triggers' rows with). The triggers are installed after
`migrate` (`after_migrate`), never by a migration: docs/development.md.
"""

import hashlib

from django.db import connection, connections, transaction

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
# A lead update the facts must follow (any other leaves them as they are).
WATCHED = [column for _, column in OWN] + ["attributes"]


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


def _unproved(vendor: str) -> str:
    """A new facts row's PROVED and JUDGED columns: nothing proved or judged yet."""
    false = "false" if vendor == "postgresql" else "0"
    return f"0, {false}, {false}, {false}, {false}, NULL, NULL, ',', ',', '', ''"


def _own(vendor: str, lead_id: str) -> str:
    """INSERT or refresh the lead's own columns and source (what it proved kept)."""
    own = ", ".join(f"l.{column}" for _, column in OWN)
    refreshed = ", ".join(f"{f} = excluded.{f}" for f in [*(f for f, _ in OWN), "source"])
    return (
        f"INSERT INTO dashboard_leadfacts ({COLUMNS}) "
        f"SELECT l.id, {own}, {_source(vendor, 'l')}, {_unproved(vendor)} "
        f"FROM leads_lead l WHERE l.id = {lead_id} "
        f"ON CONFLICT (lead_id) DO UPDATE SET {refreshed}"
    )


def _proved_update() -> str:
    """SQLite: what one new event (NEW) proves, added to its lead's row (PostgreSQL counts a
    statement's events at once: `_events_proved`)."""
    stage = "NEW.kind = 'stage_changed'"
    rank = f"CASE WHEN {stage} THEN {RANK.format(to='NEW.to_stage')} ELSE 0 END"
    routed = f"CASE WHEN {stage} AND NEW.to_stage = 'routed' THEN NEW.at END"
    contact = (
        f"CASE WHEN NEW.kind = 'contact_logged' OR ({stage} AND NEW.to_stage = 'contacted') "
        "THEN NEW.at END"
    )
    flags = ", ".join(f"{f} = {f} OR ({stage} AND NEW.to_stage = '{f}')" for f in EXITS)
    code = "',' || NEW.reason_code || ','"
    flags += "".join(
        f", {column} = CASE WHEN {stage} AND NEW.to_stage = '{to}' AND "
        f"instr({column}, {code}) = 0 THEN {column} || NEW.reason_code || ',' "
        f"ELSE {column} END"
        for column, to in REASONED.items()
    )

    def earliest(column: str, value: str) -> str:
        return (
            f"{column} = CASE WHEN {column} IS NULL THEN {value} WHEN {value} IS NULL "
            f"THEN {column} ELSE min({column}, {value}) END"
        )

    furthest = f"furthest = max(furthest, {rank})"
    times = f"{earliest('routed_at', routed)}, {earliest('contacted_at', contact)}"
    return (
        f"UPDATE dashboard_leadfacts SET {furthest}, {flags}, {times} WHERE lead_id = NEW.lead_id"
    )


def _changed(old: str = "OLD", new: str = "NEW", differ: str = "IS DISTINCT FROM") -> str:
    return " OR ".join(f"{old}.{c} {differ} {new}.{c}" for c in WATCHED)


# The lead's judgements in force (`scoring.Qualification`, not superseded) and the criteria
# they failed. `{lead}`: the facts row's lead id.
JUDGEMENT = "q.agreement_id || ':' || q.score || ':' || CASE WHEN q.qualified THEN 1 ELSE 0 END"
IN_FORCE = "FROM scoring_qualification q WHERE q.lead_id = {lead} AND q.superseded_at IS NULL"
FAILED = (
    "FROM scoring_qualification q JOIN scoring_criterionresult r ON r.qualification_id = q.id "
    "WHERE q.lead_id = {lead} AND q.superseded_at IS NULL AND NOT r.passed"
)


def _lists(vendor: str) -> tuple[str, str]:
    """(the judgements' list aggregate, the failed criteria's distinct list aggregate)."""
    if vendor == "postgresql":
        return (
            f"string_agg({JUDGEMENT}, ',' ORDER BY q.id)",
            "string_agg(DISTINCT r.criterion_id::text, ',' ORDER BY r.criterion_id::text)",
        )
    return f"group_concat({JUDGEMENT}, ',')", "group_concat(DISTINCT r.criterion_id)"


def _judged(vendor: str, column: str, lead: str) -> str:
    """`column = ` that facts column recounted for the lead whose id is `lead`."""
    judgements, failed = _lists(vendor)
    counted, where = (judgements, IN_FORCE) if column == "judgements" else (failed, FAILED)
    return f"{column} = COALESCE((SELECT {counted} {where.format(lead=lead)}), '')"


def _rejudge(vendor: str, columns: list[str], lead: str) -> str:
    sets = ", ".join(_judged(vendor, column, "dashboard_leadfacts.lead_id") for column in columns)
    return f"UPDATE dashboard_leadfacts SET {sets} WHERE lead_id = {lead}"


# A judgement written: its lead's list of judgements; superseded (or changed): both lists;
# criterion results written: the failed criteria of the leads of the failed ones (a passed
# result fails nothing). PostgreSQL counts once per statement (the handoff and the
# re-scoring COPY a batch of judgements and their twelve results each), over the leads in
# the statement's transition table `changed`.
JUDGED_TRIGGERS = [
    ("dashboard_leadfacts_judgement", "scoring_qualification", "INSERT", ["judgements"]),
    (
        "dashboard_leadfacts_judgement_changed",
        "scoring_qualification",
        "UPDATE",
        ["judgements", "failed_criteria"],
    ),
    ("dashboard_leadfacts_result", "scoring_criterionresult", "INSERT", ["failed_criteria"]),
]


def _postgresql_judged() -> list[str]:
    sql = []
    for name, table, when, columns in JUDGED_TRIGGERS:
        if table == "scoring_criterionresult":
            leads = (
                "SELECT q.lead_id FROM scoring_qualification q WHERE q.id IN "
                "(SELECT qualification_id FROM changed WHERE NOT passed)"
            )
        else:
            leads = "SELECT lead_id FROM changed"
        # `= ANY(ARRAY(...))`: the planner takes the array for a few ids and probes the
        # facts' key for each. Joined to the transition table (24,000 results a batch, no
        # statistics) it read all 1,000,000 facts rows instead: 2.5 s a batch, measured.
        sql += [
            f"""
            CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                {_rejudge("postgresql", columns, f"ANY(ARRAY({leads}))")};
                RETURN NULL;
            END $$
            """,
            f"CREATE TRIGGER {name} AFTER {when} ON {table} REFERENCING NEW TABLE AS changed "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    return sql


def _sqlite_judged() -> list[str]:
    sql = []
    for name, table, when, columns in JUDGED_TRIGGERS:
        if table == "scoring_criterionresult":
            lead = "(SELECT lead_id FROM scoring_qualification WHERE id = NEW.qualification_id)"
            condition = " WHEN NOT NEW.passed"
        else:
            lead, condition = "NEW.lead_id", ""
        sql.append(
            f"CREATE TRIGGER {name} AFTER {when} ON {table}{condition} "
            f"BEGIN {_rejudge('sqlite', columns, lead)}; END"
        )
    return sql


def _events_proved() -> str:
    """PostgreSQL: what the events one statement wrote (its transition table `added`) prove,
    added to their leads' rows in one UPDATE: what SQLite's `_proved_update` does once
    per event (the handoff writes its batch's events with one COPY)."""
    stage = "e.kind = 'stage_changed'"
    contact = f"e.kind = 'contact_logged' OR ({stage} AND e.to_stage = 'contacted')"
    proved = ", ".join(
        [
            f"max(CASE WHEN {stage} THEN {RANK.format(to='e.to_stage')} ELSE 0 END) AS furthest",
            *(f"bool_or({stage} AND e.to_stage = '{f}') AS {f}" for f in EXITS),
            f"min(e.at) FILTER (WHERE {stage} AND e.to_stage = 'routed') AS routed_at",
            f"min(e.at) FILTER (WHERE {contact}) AS contacted_at",
            *(
                f"array_agg(DISTINCT e.reason_code) FILTER (WHERE {stage} AND e.to_stage = '{to}')"
                f" AS {column}"
                for column, to in REASONED.items()
            ),
        ]
    )
    sets = ", ".join(
        [
            "furthest = greatest(f.furthest, e.furthest)",
            *(f"{flag} = f.{flag} OR e.{flag}" for flag in EXITS),
            "routed_at = least(f.routed_at, e.routed_at)",
            "contacted_at = least(f.contacted_at, e.contacted_at)",
            *(
                f"{column} = f.{column} || COALESCE((SELECT string_agg(c || ',', '') "
                f"FROM unnest(e.{column}) c WHERE position(',' || c || ',' in f.{column}) = 0), '')"
                for column in REASONED
            ),
        ]
    )
    return (
        f"UPDATE dashboard_leadfacts f SET {sets} FROM (SELECT e.lead_id, {proved} FROM added e "
        "WHERE e.kind IN ('stage_changed', 'contact_logged') GROUP BY e.lead_id) e "
        "WHERE f.lead_id = e.lead_id"
    )


def _leads_changed() -> str:
    """PostgreSQL: `_own` for every lead one UPDATE statement changed in a watched column
    (transition tables `before` and `after`), in one INSERT ... ON CONFLICT per statement."""
    own = ", ".join(f"l.{column}" for _, column in OWN)
    refreshed = ", ".join(f"{f} = excluded.{f}" for f in [*(f for f, _ in OWN), "source"])
    return (
        f"INSERT INTO dashboard_leadfacts ({COLUMNS}) "
        f"SELECT l.id, {own}, {_source('postgresql', 'l')}, {_unproved('postgresql')} "
        f"FROM after l JOIN before o ON o.id = l.id "
        f"WHERE {_changed('o', 'l')} "
        f"ON CONFLICT (lead_id) DO UPDATE SET {refreshed}"
    )


def _postgresql_install() -> list[str]:
    return [
        f"""
        CREATE FUNCTION dashboard_leadfacts_events() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {_events_proved()};
            RETURN NULL;
        END $$
        """,
        f"""
        CREATE FUNCTION dashboard_leadfacts_leads() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {_leads_changed()};
            RETURN NULL;
        END $$
        """,
        f"""
        CREATE FUNCTION dashboard_leadfacts_recount() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {_recount_one("postgresql", "NEW.lead_id")};
            RETURN NULL;
        END $$
        """,
        f"""
        CREATE FUNCTION dashboard_leadfacts_lead() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            lead bigint;
        BEGIN
            IF TG_TABLE_NAME = 'leads_lead' THEN
                lead := NEW.id;
            ELSE
                lead := NEW.lead_id;
            END IF;
            {_own("postgresql", "lead")};
            RETURN NULL;
        END $$
        """,
        # Once per statement: the handoff's batches write hundreds of events and leads with
        # one statement each, and a row trigger cost a plan's run per row.
        "CREATE TRIGGER dashboard_leadfacts_event AFTER INSERT ON leads_leadevent "
        "REFERENCING NEW TABLE AS added FOR EACH STATEMENT "
        "EXECUTE FUNCTION dashboard_leadfacts_events()",
        "CREATE TRIGGER dashboard_leadfacts_event_changed AFTER UPDATE ON leads_leadevent "
        "FOR EACH ROW EXECUTE FUNCTION dashboard_leadfacts_recount()",
        "CREATE TRIGGER dashboard_leadfacts_lead AFTER INSERT ON leads_lead FOR EACH ROW "
        "EXECUTE FUNCTION dashboard_leadfacts_lead()",
        # A trigger with transition tables takes no column list: every UPDATE statement on
        # leads runs it, and it writes only the leads whose watched columns changed.
        "CREATE TRIGGER dashboard_leadfacts_change AFTER UPDATE ON leads_lead "
        "REFERENCING OLD TABLE AS before NEW TABLE AS after FOR EACH STATEMENT "
        "EXECUTE FUNCTION dashboard_leadfacts_leads()",
        "CREATE TRIGGER dashboard_leadfacts_submission AFTER INSERT ON leads_submission "
        "FOR EACH ROW EXECUTE FUNCTION dashboard_leadfacts_lead()",
        *_postgresql_judged(),
    ]


def _sqlite_install() -> list[str]:
    return [
        "CREATE TRIGGER dashboard_leadfacts_event AFTER INSERT ON leads_leadevent "
        "WHEN NEW.kind IN ('stage_changed', 'contact_logged') "
        f"BEGIN {_proved_update()}; END",
        "CREATE TRIGGER dashboard_leadfacts_event_changed AFTER UPDATE ON leads_leadevent "
        f"BEGIN {_recount_one('sqlite', 'NEW.lead_id')}; END",
        "CREATE TRIGGER dashboard_leadfacts_lead AFTER INSERT ON leads_lead "
        f"BEGIN {_own('sqlite', 'NEW.id')}; END",
        f"CREATE TRIGGER dashboard_leadfacts_change AFTER UPDATE OF {', '.join(WATCHED)} "
        f"ON leads_lead WHEN {_changed(differ='IS NOT')} "
        f"BEGIN {_own('sqlite', 'NEW.id')}; END",
        "CREATE TRIGGER dashboard_leadfacts_submission AFTER INSERT ON leads_submission "
        f"BEGIN {_own('sqlite', 'NEW.lead_id')}; END",
        *_sqlite_judged(),
    ]


TRIGGERS = [
    ("dashboard_leadfacts_event", "leads_leadevent"),
    ("dashboard_leadfacts_event_changed", "leads_leadevent"),
    ("dashboard_leadfacts_lead", "leads_lead"),
    ("dashboard_leadfacts_change", "leads_lead"),
    ("dashboard_leadfacts_submission", "leads_submission"),
    *((name, table) for name, table, _, _ in JUDGED_TRIGGERS),
]
FUNCTIONS = [
    "dashboard_leadfacts_event",  # the row trigger's, before events were counted per statement
    "dashboard_leadfacts_events",
    "dashboard_leadfacts_leads",
    "dashboard_leadfacts_lead",
    "dashboard_leadfacts_recount",
    *(name for name, _, _, _ in JUDGED_TRIGGERS),
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


def _recount_one(vendor: str, lead_id: str) -> str:
    """One lead's proved columns recounted from its events (after an event was changed: the
    demo backdates its events)."""
    counted, read = _events_counted(vendor)
    return (
        f"UPDATE dashboard_leadfacts SET ({', '.join(PROVED)}) = (SELECT {read} FROM ("
        f"SELECT {counted} FROM leads_leadevent e WHERE e.lead_id = {lead_id} "
        "AND e.kind IN ('stage_changed', 'contact_logged')) e) "
        f"WHERE lead_id = {lead_id}"
    )


def rebuild_sql(vendor: str) -> str:
    """Every lead's facts recounted from the lead, its events and its judgements: one
    statement."""
    counted, read = _events_counted(vendor)
    own = ", ".join(f"l.{column}" for _, column in OWN)
    judgements, failed = _lists(vendor)
    in_force = IN_FORCE.replace("q.lead_id = {lead} AND ", "")
    failing = FAILED.replace("q.lead_id = {lead} AND ", "")
    return f"""
        INSERT INTO dashboard_leadfacts ({COLUMNS})
        SELECT l.id, {own}, {_source(vendor, "l")}, {read},
            COALESCE(j.judgements, ''), COALESCE(f.failed, '')
        FROM leads_lead l LEFT JOIN (
            SELECT e.lead_id, {counted}
            FROM leads_leadevent e WHERE e.kind IN ('stage_changed', 'contact_logged')
            GROUP BY e.lead_id
        ) e ON e.lead_id = l.id
        LEFT JOIN (SELECT q.lead_id, {judgements} AS judgements {in_force} GROUP BY q.lead_id) j
            ON j.lead_id = l.id
        LEFT JOIN (SELECT q.lead_id, {failed} AS failed {failing} GROUP BY q.lead_id) f
            ON f.lead_id = l.id
    """


def facts_rebuild(using_connection=None) -> int:
    """Recount every lead's facts from its events (replacing what the triggers kept); the
    number of leads."""
    conn = using_connection or connection
    with conn.cursor() as cursor:
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
    """The facts' table is there with every column the triggers write (a migrate may stop
    before the dashboard's last migration)."""
    with conn.cursor() as cursor:
        if "dashboard_leadfacts" not in conn.introspection.table_names(cursor):
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
