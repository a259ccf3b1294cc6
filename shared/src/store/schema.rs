//! The database schema as append-only migrations keyed on `PRAGMA user_version`, one transaction each.
//! Never edit a migration that has shipped: add a new one.

use rusqlite::Connection;

use super::StoreError;

/// Each entry moves the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: the hall's state, its history and its people.
    r#"
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE config (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        toml TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        updated_by TEXT NOT NULL
    );
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        day TEXT NOT NULL,
        actor TEXT NOT NULL,
        counter INTEGER,
        type TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX events_by_day ON events (day, type);
    CREATE TABLE tickets (
        day TEXT NOT NULL,
        number TEXT NOT NULL,
        service TEXT NOT NULL,
        seq INTEGER NOT NULL,
        priority INTEGER NOT NULL,
        issued_at INTEGER NOT NULL,
        state TEXT NOT NULL,
        counter INTEGER,
        for_counter INTEGER,
        called_at INTEGER,
        started_at INTEGER,
        finished_at INTEGER,
        recalls INTEGER NOT NULL,
        transfers INTEGER NOT NULL,
        issued_by TEXT NOT NULL,
        estimated_wait_s INTEGER NOT NULL,
        apology INTEGER NOT NULL,
        first_called_at INTEGER,
        first_service TEXT NOT NULL,
        PRIMARY KEY (day, number)
    ) WITHOUT ROWID;
    CREATE INDEX tickets_by_issue ON tickets (issued_at);
    CREATE TABLE counters (
        id INTEGER PRIMARY KEY,
        state TEXT NOT NULL,
        current TEXT,
        last_service_secs INTEGER
    );
    CREATE TABLE outage (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        body TEXT NOT NULL,
        long INTEGER NOT NULL
    );
    CREATE TABLE long_wait (service TEXT PRIMARY KEY);
    CREATE TABLE callbacks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        phone TEXT NOT NULL,
        address TEXT,
        reason TEXT,
        origin TEXT NOT NULL,
        ticket TEXT,
        outage_id INTEGER,
        status TEXT NOT NULL,
        owner TEXT,
        notes TEXT NOT NULL,
        captured_at INTEGER NOT NULL,
        captured_by TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        resolved_at INTEGER
    );
    CREATE INDEX callbacks_by_status ON callbacks (status, captured_at);
    CREATE TABLE accounts (
        login TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        display_name TEXT,
        created_at INTEGER NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE devices (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        login TEXT NOT NULL,
        role TEXT NOT NULL,
        counter INTEGER,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX audit_by_time ON audit (at);
    CREATE TABLE suggestions (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        text TEXT NOT NULL,
        contact TEXT,
        source TEXT NOT NULL
    );
    "#,
    // 2: customer satisfaction, one anonymous rating per finished ticket.
    r#"
    CREATE TABLE ratings (
        day TEXT NOT NULL,
        number TEXT NOT NULL,
        counter INTEGER,
        score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
        at INTEGER NOT NULL,
        PRIMARY KEY (day, number)
    ) WITHOUT ROWID;
    "#,
    // 3: no query looks tickets up by issue time (a day's tickets come by their key and are sorted
    // in memory), and the index cost every issued ticket one more page to write and sync.
    r#"
    DROP INDEX IF EXISTS tickets_by_issue;
    "#,
    // 4: a suggestion left with a phone number is followed up like a callback (status, who, when,
    // the reply) and deleted a fixed time after it is handled; a rating tablet is bound to one
    // counter; a clerk's callback notes leave the event log (they stay in `callbacks.notes`, which
    // is deleted with the callback), the event keeps only that a note was added. Rewritten bodies
    // leave their old bytes in the pages' free space unless deleted content is zeroed.
    r#"
    PRAGMA secure_delete = ON;
    ALTER TABLE suggestions ADD COLUMN status TEXT NOT NULL DEFAULT 'new';
    ALTER TABLE suggestions ADD COLUMN reply TEXT;
    ALTER TABLE suggestions ADD COLUMN handled_by TEXT;
    ALTER TABLE suggestions ADD COLUMN handled_at INTEGER;
    CREATE INDEX suggestions_by_status ON suggestions (status, at);
    ALTER TABLE devices ADD COLUMN counter INTEGER;
    UPDATE events
       SET body = json_set(json_remove(body, '$.note'), '$.note_added',
                           json(CASE WHEN json_type(body, '$.note') = 'text' THEN 'true' ELSE 'false' END))
     WHERE type = 'callback_updated' AND json_type(body, '$.note') IS NOT NULL;
    "#,
    // 5: the ticket each phone holds today (a keyed hash of the id its page made, never anything
    // personal), so that a hub restart does not let a phone take a second ticket while its first
    // waits. Rows of past days are deleted as new ones come.
    r#"
    CREATE TABLE phone_tickets (
        phone_key BLOB PRIMARY KEY,
        day TEXT NOT NULL,
        number TEXT NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 6: ratings are shipped to central in the order they were committed (`ship_seq`), not by
    // the time they carry: a rating given while the clock read earlier than one already shipped
    // was never shipped. The cursor kept as (at, day, number) becomes the `ship_seq` of the last
    // rating at or before it.
    r#"
    ALTER TABLE ratings ADD COLUMN ship_seq INTEGER;
    UPDATE ratings SET ship_seq = o.n
      FROM (SELECT day, number, row_number() OVER (ORDER BY at, day, number) AS n FROM ratings) AS o
     WHERE ratings.day = o.day AND ratings.number = o.number;
    CREATE UNIQUE INDEX ratings_by_ship_seq ON ratings (ship_seq);
    INSERT INTO meta (key, value)
    SELECT 'central_ratings_seq',
           coalesce((SELECT max(ship_seq) FROM ratings
                      WHERE (at, day, number) <= (json_extract(m.value, '$.at'),
                                                  json_extract(m.value, '$.day'),
                                                  json_extract(m.value, '$.number'))), 0)
      FROM meta AS m WHERE m.key = 'central_ratings_cursor';
    DELETE FROM meta WHERE key = 'central_ratings_cursor';
    "#,
];

/// The schema version this program writes.
pub fn current_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Bring the database up to [`current_version`], one transaction per migration.
pub fn migrate(conn: &mut Connection, path: &std::path::Path) -> Result<(), StoreError> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| StoreError::open(path, e))?;
    if version > current_version() {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: version,
            known: current_version(),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
