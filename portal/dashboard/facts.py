"""The roll-up `LeadFacts`: one row per lead, kept by triggers from the lead events.

Why triggers: the row must change in the same transaction as the event it summarises,
whichever code wrote the event (the lifecycle's services, the routing's batch INSERTs, an
import's COPY, a test's factory). A consumer that followed the events' ids would miss an
event committed after a later id (house rules), and a Python hook would be skipped by any
bulk write. Each trigger does constant work per row: a stage event raises `furthest`, sets an
exit flag or keeps the earliest time; a lead or submission written recomputes the source.

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
COLUMNS = (
    "lead_id, furthest, disqualified, rejected, recycled, lost, routed_at, contacted_at, source"
)


def _source(vendor: str, lead: str) -> str:
    """The lead's source (selectors.lead_source) for the lead row aliased `lead`."""
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


def _event_values(new: str = "NEW") -> str:
    stage = f"{new}.kind = 'stage_changed'"
    flags = ", ".join(f"({stage} AND {new}.to_stage = '{exit_}')" for exit_ in EXITS)
    contact = f"({new}.kind = 'contact_logged' OR ({stage} AND {new}.to_stage = 'contacted'))"
    return (
        f"{new}.lead_id, CASE WHEN {stage} THEN {RANK.format(to=f'{new}.to_stage')} ELSE 0 END, "
        f"{flags}, CASE WHEN {stage} AND {new}.to_stage = 'routed' THEN {new}.at END, "
        f"CASE WHEN {contact} THEN {new}.at END, ''"
    )


def _postgresql_install() -> list[str]:
    keep = ", ".join(f"{f} = f.{f} OR EXCLUDED.{f}" for f in EXITS)
    return [
        f"""
        CREATE FUNCTION dashboard_leadfacts_event() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO dashboard_leadfacts AS f ({COLUMNS}) VALUES ({_event_values()})
            ON CONFLICT (lead_id) DO UPDATE SET
                furthest = greatest(f.furthest, EXCLUDED.furthest), {keep},
                routed_at = least(f.routed_at, EXCLUDED.routed_at),
                contacted_at = least(f.contacted_at, EXCLUDED.contacted_at);
            RETURN NULL;
        END $$
        """,
        f"""
        CREATE FUNCTION dashboard_leadfacts_source() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            lead bigint;
        BEGIN
            IF TG_TABLE_NAME = 'leads_lead' THEN
                lead := NEW.id;
            ELSE
                lead := NEW.lead_id;
            END IF;
            INSERT INTO dashboard_leadfacts AS f ({COLUMNS})
            SELECT l.id, 0, false, false, false, false, NULL, NULL, {_source("postgresql", "l")}
            FROM leads_lead l
            WHERE l.id = lead
            ON CONFLICT (lead_id) DO UPDATE SET source = EXCLUDED.source;
            RETURN NULL;
        END $$
        """,
        # Notes (a re-scoring COPYs one per lead) and the others prove nothing here.
        "CREATE TRIGGER dashboard_leadfacts_event AFTER INSERT ON leads_leadevent FOR EACH ROW "
        "WHEN (NEW.kind IN ('stage_changed', 'contact_logged')) "
        "EXECUTE FUNCTION dashboard_leadfacts_event()",
        "CREATE TRIGGER dashboard_leadfacts_lead AFTER INSERT ON leads_lead FOR EACH ROW "
        "EXECUTE FUNCTION dashboard_leadfacts_source()",
        "CREATE TRIGGER dashboard_leadfacts_attributes AFTER UPDATE OF attributes ON leads_lead "
        "FOR EACH ROW WHEN (OLD.attributes IS DISTINCT FROM NEW.attributes) "
        "EXECUTE FUNCTION dashboard_leadfacts_source()",
        "CREATE TRIGGER dashboard_leadfacts_submission AFTER INSERT ON leads_submission "
        "FOR EACH ROW EXECUTE FUNCTION dashboard_leadfacts_source()",
    ]


def _sqlite_install() -> list[str]:
    keep = ", ".join(f"{f} = {f} OR excluded.{f}" for f in EXITS)

    def earliest(column: str) -> str:
        return (
            f"{column} = CASE WHEN {column} IS NULL THEN excluded.{column} "
            f"WHEN excluded.{column} IS NULL THEN {column} "
            f"ELSE min({column}, excluded.{column}) END"
        )

    def source_trigger(name: str, when: str, lead_id: str) -> str:
        return f"""
        CREATE TRIGGER {name} {when} BEGIN
            INSERT INTO dashboard_leadfacts ({COLUMNS})
            SELECT l.id, 0, 0, 0, 0, 0, NULL, NULL, {_source("sqlite", "l")}
            FROM leads_lead l WHERE l.id = {lead_id}
            ON CONFLICT (lead_id) DO UPDATE SET source = excluded.source;
        END
        """

    return [
        f"""
        CREATE TRIGGER dashboard_leadfacts_event AFTER INSERT ON leads_leadevent
        WHEN NEW.kind IN ('stage_changed', 'contact_logged') BEGIN
            INSERT INTO dashboard_leadfacts ({COLUMNS}) VALUES ({_event_values()})
            ON CONFLICT (lead_id) DO UPDATE SET furthest = max(furthest, excluded.furthest),
                {keep}, {earliest("routed_at")}, {earliest("contacted_at")};
        END
        """,
        source_trigger("dashboard_leadfacts_lead", "AFTER INSERT ON leads_lead", "NEW.id"),
        source_trigger(
            "dashboard_leadfacts_attributes",
            "AFTER UPDATE OF attributes ON leads_lead WHEN OLD.attributes IS NOT NEW.attributes",
            "NEW.id",
        ),
        source_trigger(
            "dashboard_leadfacts_submission", "AFTER INSERT ON leads_submission", "NEW.lead_id"
        ),
    ]


TRIGGERS = [
    ("dashboard_leadfacts_event", "leads_leadevent"),
    ("dashboard_leadfacts_lead", "leads_lead"),
    ("dashboard_leadfacts_attributes", "leads_lead"),
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
        schema_editor.execute("DROP FUNCTION IF EXISTS dashboard_leadfacts_source()")


def rebuild_sql(vendor: str) -> str:
    """Every lead's facts recounted from its events: one statement."""
    stage = "e.kind = 'stage_changed'"
    flags = ", ".join(
        f"max(CASE WHEN {stage} AND e.to_stage = '{f}' THEN 1 ELSE 0 END) AS {f}" for f in EXITS
    )
    contact = f"(e.kind = 'contact_logged' OR ({stage} AND e.to_stage = 'contacted'))"
    read = ", ".join(f"COALESCE(e.{f}, 0) = 1" for f in EXITS)
    return f"""
        INSERT INTO dashboard_leadfacts ({COLUMNS})
        SELECT l.id, COALESCE(e.furthest, 0), {read}, e.routed_at, e.contacted_at,
            {_source(vendor, "l")}
        FROM leads_lead l LEFT JOIN (
            SELECT e.lead_id,
                max(CASE WHEN {stage} THEN {RANK.format(to="e.to_stage")} ELSE 0 END) AS furthest,
                {flags},
                min(CASE WHEN {stage} AND e.to_stage = 'routed' THEN e.at END) AS routed_at,
                min(CASE WHEN {contact} THEN e.at END) AS contacted_at
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
