"""The roll-up `LeadFacts`: one row per lead, kept by triggers from the lead events.

Why triggers: the row must change in the same transaction as the event it summarises,
whichever code wrote the event (the lifecycle's services, the routing's batch INSERTs, an
import's COPY, a test's factory). A consumer that followed the events' ids would miss an
event committed after a later id (house rules), and a Python hook would be skipped by any
bulk write. Each trigger does constant work per row: a stage event raises `furthest`, sets an
exit flag or keeps the earliest time; a lead or submission written recomputes the source. On
PostgreSQL the triggers on new events and on lead updates run once per statement over its
transition tables (the handoff writes a batch's leads and events with one statement each).

`facts_rebuild()` recounts every row from the events in one set-based statement (the
migration's backfill, and the raw computation a test compares the triggers' rows with).
"""

from django.db import connection

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
]
PROVED = ["furthest", *EXITS, "routed_at", "contacted_at", "rejected_reasons", "lost_reasons"]
REASONED = {"rejected_reasons": "rejected", "lost_reasons": "lost"}
COLUMNS = ", ".join(["lead_id", *(f for f, _ in OWN), "source", *PROVED])
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


def _own(vendor: str, lead_id: str) -> str:
    """INSERT or refresh the lead's own columns and source (what it proved kept)."""
    own = ", ".join(f"l.{column}" for _, column in OWN)
    false = "false" if vendor == "postgresql" else "0"
    refreshed = ", ".join(f"{f} = excluded.{f}" for f in [*(f for f, _ in OWN), "source"])
    return (
        f"INSERT INTO dashboard_leadfacts ({COLUMNS}) "
        f"SELECT l.id, {own}, {_source(vendor, 'l')}, 0, {false}, {false}, {false}, {false}, "
        f"NULL, NULL, ',', ',' FROM leads_lead l WHERE l.id = {lead_id} "
        f"ON CONFLICT (lead_id) DO UPDATE SET {refreshed}"
    )


def _proved_update(vendor: str) -> str:
    """What one new event (NEW) proves, added to its lead's row."""
    stage = "NEW.kind = 'stage_changed'"
    rank = f"CASE WHEN {stage} THEN {RANK.format(to='NEW.to_stage')} ELSE 0 END"
    routed = f"CASE WHEN {stage} AND NEW.to_stage = 'routed' THEN NEW.at END"
    contact = (
        f"CASE WHEN NEW.kind = 'contact_logged' OR ({stage} AND NEW.to_stage = 'contacted') "
        "THEN NEW.at END"
    )
    flags = ", ".join(f"{f} = {f} OR ({stage} AND NEW.to_stage = '{f}')" for f in EXITS)
    found = (
        "position({code} in {column}) = 0"
        if vendor == "postgresql"
        else "instr({column}, {code}) = 0"
    )
    code = "',' || NEW.reason_code || ','"
    flags += "".join(
        f", {column} = CASE WHEN {stage} AND NEW.to_stage = '{to}' AND "
        f"{found.format(code=code, column=column)} THEN {column} || NEW.reason_code || ',' "
        f"ELSE {column} END"
        for column, to in REASONED.items()
    )
    if vendor == "postgresql":
        furthest = f"furthest = greatest(furthest, {rank})"
        times = f"routed_at = least(routed_at, {routed}), "
        times += f"contacted_at = least(contacted_at, {contact})"
    else:

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


def _events_proved() -> str:
    """PostgreSQL: what the events one statement wrote (its transition table `added`) prove,
    added to their leads' rows in one UPDATE: `_proved_update` once per statement, not once
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
        f"SELECT l.id, {own}, {_source('postgresql', 'l')}, 0, false, false, false, false, "
        f"NULL, NULL, ',', ',' FROM after l JOIN before o ON o.id = l.id "
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
    ]


def _sqlite_install() -> list[str]:
    return [
        "CREATE TRIGGER dashboard_leadfacts_event AFTER INSERT ON leads_leadevent "
        "WHEN NEW.kind IN ('stage_changed', 'contact_logged') "
        f"BEGIN {_proved_update('sqlite')}; END",
        "CREATE TRIGGER dashboard_leadfacts_event_changed AFTER UPDATE ON leads_leadevent "
        f"BEGIN {_recount_one('sqlite', 'NEW.lead_id')}; END",
        "CREATE TRIGGER dashboard_leadfacts_lead AFTER INSERT ON leads_lead "
        f"BEGIN {_own('sqlite', 'NEW.id')}; END",
        f"CREATE TRIGGER dashboard_leadfacts_change AFTER UPDATE OF {', '.join(WATCHED)} "
        f"ON leads_lead WHEN {_changed(differ='IS NOT')} "
        f"BEGIN {_own('sqlite', 'NEW.id')}; END",
        "CREATE TRIGGER dashboard_leadfacts_submission AFTER INSERT ON leads_submission "
        f"BEGIN {_own('sqlite', 'NEW.lead_id')}; END",
    ]


TRIGGERS = [
    ("dashboard_leadfacts_event", "leads_leadevent"),
    ("dashboard_leadfacts_event_changed", "leads_leadevent"),
    ("dashboard_leadfacts_lead", "leads_lead"),
    ("dashboard_leadfacts_change", "leads_lead"),
    ("dashboard_leadfacts_submission", "leads_submission"),
]


def facts_install(schema_editor) -> None:
    """Create the triggers (the migration's forward step)."""
    vendor = schema_editor.connection.vendor
    for sql in _postgresql_install() if vendor == "postgresql" else _sqlite_install():
        schema_editor.execute(sql)


def facts_uninstall(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for name, table in TRIGGERS:
        on = f" ON {table}" if vendor == "postgresql" else ""
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}{on}")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS dashboard_leadfacts_event()")
        schema_editor.execute("DROP FUNCTION IF EXISTS dashboard_leadfacts_events()")
        schema_editor.execute("DROP FUNCTION IF EXISTS dashboard_leadfacts_leads()")
        schema_editor.execute("DROP FUNCTION IF EXISTS dashboard_leadfacts_lead()")
        schema_editor.execute("DROP FUNCTION IF EXISTS dashboard_leadfacts_recount()")


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
    """Every lead's facts recounted from the lead and its events: one statement."""
    counted, read = _events_counted(vendor)
    own = ", ".join(f"l.{column}" for _, column in OWN)
    return f"""
        INSERT INTO dashboard_leadfacts ({COLUMNS})
        SELECT l.id, {own}, {_source(vendor, "l")}, {read}
        FROM leads_lead l LEFT JOIN (
            SELECT e.lead_id, {counted}
            FROM leads_leadevent e WHERE e.kind IN ('stage_changed', 'contact_logged')
            GROUP BY e.lead_id
        ) e ON e.lead_id = l.id
    """


def facts_rebuild(using_connection=None) -> int:
    """Recount every lead's facts from its events (replacing what the triggers kept); the
    number of leads."""
    conn = using_connection or connection
    with conn.cursor() as cursor:
        cursor.execute("DELETE FROM dashboard_leadfacts")
        cursor.execute(rebuild_sql(conn.vendor))
        return cursor.rowcount
