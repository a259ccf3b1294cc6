//! The database's shape: append-only migrations, each applied once in its own transaction and
//! recorded in `schema_version`, so that a central that stopped half-way through an upgrade finds
//! the database at one version or the next, never between.

use tokio_postgres::Client;

/// Each entry is one version; never edit an entry that has shipped, add the next one instead.
const MIGRATIONS: &[&str] = &[
    // 1: halls, their history, what reports read, the live status, the rollups, head office's accounts.
    r#"
    CREATE TABLE halls (
        id bigserial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        credential_sha256 text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
    );

    CREATE TABLE events (
        hall_id bigint NOT NULL REFERENCES halls (id),
        seq bigint NOT NULL,
        day date NOT NULL,
        at bigint NOT NULL,
        actor text NOT NULL,
        counter bigint,
        type text NOT NULL,
        body jsonb NOT NULL,
        PRIMARY KEY (hall_id, seq)
    );
    -- A day's facts for its rollup.
    CREATE INDEX events_hall_day ON events (hall_id, day, type);
    -- Callbacks are resolved on later days: found by id from the day they were captured.
    CREATE INDEX events_callback ON events (hall_id, ((body->>'id')::bigint))
        WHERE type IN ('callback_captured', 'callback_updated');
    -- The hall's configuration (target, time zone, names) for its rollups.
    CREATE INDEX events_config ON events (hall_id, seq) WHERE type = 'config_replaced';

    CREATE TABLE tickets (
        hall_id bigint NOT NULL REFERENCES halls (id),
        day date NOT NULL,
        number text NOT NULL,
        service text NOT NULL,
        first_service text NOT NULL,
        state text NOT NULL,
        counter bigint,
        issued_at bigint NOT NULL,
        first_called_at bigint,
        called_at bigint,
        started_at bigint,
        finished_at bigint,
        transfers bigint NOT NULL,
        estimated_wait_s bigint NOT NULL,
        PRIMARY KEY (hall_id, day, number)
    );

    CREATE TABLE ratings (
        hall_id bigint NOT NULL REFERENCES halls (id),
        day date NOT NULL,
        number text NOT NULL,
        counter bigint,
        score smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
        at bigint NOT NULL,
        PRIMARY KEY (hall_id, day, number)
    );

    CREATE TABLE hall_status (
        hall_id bigint PRIMARY KEY REFERENCES halls (id),
        last_contact timestamptz,
        hub_version text,
        body jsonb,
        stored_through bigint NOT NULL DEFAULT 0,
        events_stored bigint NOT NULL DEFAULT 0
    );

    -- One line per hall and business day, from the same report the hall computes: a league table
    -- over a month of a thousand halls adds up thirty thousand lines instead of millions of tickets.
    CREATE TABLE hall_days (
        hall_id bigint NOT NULL REFERENCES halls (id),
        day date NOT NULL,
        target_wait_min integer NOT NULL,
        issued integer NOT NULL,
        called integer NOT NULL,
        served integer NOT NULL,
        no_shows integer NOT NULL,
        never_called integer NOT NULL,
        within_target integer NOT NULL,
        wait_count integer NOT NULL,
        wait_sum_ms bigint NOT NULL,
        service_count integer NOT NULL,
        service_sum_ms bigint NOT NULL,
        rated integer NOT NULL,
        satisfied integer NOT NULL,
        score_sum integer NOT NULL,
        outages integer NOT NULL,
        long_waits integer NOT NULL,
        long_wait_s double precision NOT NULL,
        callbacks_captured integer NOT NULL,
        callbacks_resolved integer NOT NULL,
        refreshed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (hall_id, day)
    );
    CREATE INDEX hall_days_day ON hall_days (day);

    CREATE TABLE operators (
        id bigserial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE sessions (
        token_sha256 text PRIMARY KEY,
        operator_id bigint NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
        expires_at timestamptz NOT NULL
    );
    "#,
    // 2: hall groups, published texts with their versions, and the audit log of operators' acts.
    r#"
    ALTER TABLE halls ADD COLUMN group_name text;
    CREATE INDEX halls_group ON halls (group_name);

    -- version is the number halls report back as their config_version: gap-free, taken under a
    -- lock when publishing, never reused.
    CREATE TABLE publications (
        version bigint PRIMARY KEY,
        -- NULL: every hall; otherwise the halls of this group.
        group_name text,
        document jsonb NOT NULL,
        toml text NOT NULL,
        published_by text NOT NULL,
        published_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX publications_group ON publications (group_name, version);

    CREATE TABLE audit (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        action text NOT NULL,
        detail jsonb NOT NULL
    );
    "#,
    // 3: callbacks as their events leave them (no phone number: the hall keeps it), for the list
    // of callbacks open across halls; filled from the events already stored.
    r#"
    CREATE TABLE callbacks (
        hall_id bigint NOT NULL REFERENCES halls (id),
        id bigint NOT NULL,
        day date NOT NULL,
        captured_at bigint NOT NULL,
        origin text NOT NULL,
        ticket text,
        status text NOT NULL,
        -- The event that set the status: an event stored again never moves it back.
        status_seq bigint NOT NULL,
        status_at bigint NOT NULL,
        resolved_at bigint,
        PRIMARY KEY (hall_id, id)
    );
    CREATE INDEX callbacks_open ON callbacks (hall_id, captured_at) WHERE resolved_at IS NULL;

    INSERT INTO callbacks (hall_id, id, day, captured_at, origin, ticket, status, status_seq,
                           status_at)
    SELECT hall_id, (body->>'id')::bigint, day, at, coalesce(body->>'origin', ''),
           body->>'ticket', 'pending', seq, at
    FROM events WHERE type = 'callback_captured'
    ON CONFLICT DO NOTHING;
    UPDATE callbacks c SET status = coalesce(l.body->>'status', c.status), status_seq = l.seq,
                           status_at = l.at
    FROM (SELECT DISTINCT ON (hall_id, (body->>'id')::bigint)
                 hall_id, (body->>'id')::bigint AS id, seq, at, body
          FROM events WHERE type = 'callback_updated'
          ORDER BY hall_id, (body->>'id')::bigint, seq DESC) l
    WHERE c.hall_id = l.hall_id AND c.id = l.id AND l.seq > c.status_seq;
    UPDATE callbacks c SET resolved_at = r.at
    FROM (SELECT hall_id, (body->>'id')::bigint AS id, min(at) AS at
          FROM events WHERE type = 'callback_updated' AND body->>'status' = 'resolved'
          GROUP BY 1, 2) r
    WHERE c.hall_id = r.hall_id AND c.id = r.id;
    "#,
    // 4: phone numbers of callbacks, for the halls head office deliberately turned them on for
    // (off by default), in a table of their own that events and rollups never read; a number goes
    // as its callback is deleted in the hall (the hall's callback_retention_days after it was
    // resolved), when the switch goes off, or when the hall is revoked.
    r#"
    ALTER TABLE halls ADD COLUMN callback_phones boolean NOT NULL DEFAULT false;
    -- The hall's own callback_retention_days, as its last batch carrying numbers said.
    ALTER TABLE halls ADD COLUMN callback_retention_days integer;

    CREATE TABLE callback_phones (
        hall_id bigint NOT NULL,
        id bigint NOT NULL,
        phone text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (hall_id, id),
        FOREIGN KEY (hall_id, id) REFERENCES callbacks (hall_id, id)
    );
    "#,
    // 5: outage lengths in the rollups, and the days whose rollup waits for the next refresh: a
    // batch into a hall's current day marks it, and the refresh recomputes it at most once a
    // minute. The days that had outages are marked, so that their lengths are counted.
    r#"
    ALTER TABLE hall_days ADD COLUMN outage_ms bigint NOT NULL DEFAULT 0;
    ALTER TABLE hall_days ADD COLUMN outage_longest_ms bigint NOT NULL DEFAULT 0;

    CREATE TABLE hall_days_dirty (
        hall_id bigint NOT NULL REFERENCES halls (id),
        day date NOT NULL,
        -- The first batch since the day's last rollup: the rollup holds everything before it.
        marked_at timestamptz NOT NULL DEFAULT now(),
        batches integer NOT NULL DEFAULT 1,
        PRIMARY KEY (hall_id, day)
    );

    -- An outage is counted on the day it began and the day it ended (within a week of it).
    INSERT INTO hall_days_dirty (hall_id, day)
    SELECT hall_id, day FROM hall_days WHERE outages > 0
    UNION
    SELECT e.hall_id, e.day FROM hall_days d
    JOIN events e ON e.hall_id = d.hall_id AND e.day > d.day AND e.day <= d.day + 7
                 AND e.type = 'outage_ended'
    WHERE d.outages > 0;
    "#,
    // 6: a hall restored from an older backup numbers new events with seqs central holds for
    // events it lost; from the first that differs, its seqs after `after_seq` are stored at
    // `seq + seq_offset`, after everything central held (store/fork.rs).
    r#"
    CREATE TABLE seq_forks (
        hall_id bigint NOT NULL REFERENCES halls (id),
        after_seq bigint NOT NULL,
        seq_offset bigint NOT NULL,
        made_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (hall_id, after_seq)
    );
    "#,
];

/// The version this program writes.
pub const VERSION: i32 = MIGRATIONS.len() as i32;

/// Bring the database to [`VERSION`]. Two centrals starting at once take turns on an advisory
/// lock, so a migration never runs twice.
pub async fn migrate(client: &mut Client) -> Result<i32, tokio_postgres::Error> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, \
             applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await?;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i32 + 1;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock(7361002)", &[])
            .await?;
        let done = tx
            .query_opt(
                "SELECT 1 FROM schema_version WHERE version = $1",
                &[&version],
            )
            .await?
            .is_some();
        if !done {
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES ($1)",
                &[&version],
            )
            .await?;
            tracing::info!(version, "database migrated");
        }
        tx.commit().await?;
    }
    Ok(VERSION)
}
