//! The SQL of publishing: hall groups, published documents and their versions, what applies to a
//! hall, and the audit log of operators' acts.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Store, StoreError};

/// One published version, as the publishing page lists it.
#[derive(Clone, Debug, Serialize)]
pub struct Publication {
    pub version: i64,
    /// `None`: every hall.
    pub group: Option<String>,
    pub document: Value,
    pub toml: String,
    pub published_by: String,
    pub published_at: DateTime<Utc>,
    /// Live halls this version is the latest for.
    pub halls: i64,
    /// Of those, the halls that report running it.
    pub halls_running: i64,
}

/// A group and its live halls.
#[derive(Clone, Debug, Serialize)]
pub struct Group {
    pub name: String,
    pub halls: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("no live hall is in group {0:?}")]
    NoSuchGroup(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The latest version that applies to the hall `h` (an alias of `halls`): one for every hall or
/// for the hall's group.
pub(super) const LATEST_FOR_HALL: &str = "(SELECT max(p.version) FROM publications p
      WHERE p.group_name IS NULL OR p.group_name = h.group_name)";

impl Store {
    /// Put a hall in a group (or in none); whether a hall of that name exists.
    pub async fn set_hall_group(
        &self,
        hall: &str,
        group: Option<&str>,
        actor: &str,
    ) -> Result<bool, StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let n = tx
            .execute(
                "UPDATE halls SET group_name = $2 WHERE name = $1",
                &[&hall, &group],
            )
            .await?;
        if n == 1 {
            audit(
                &tx,
                actor,
                "hall_group",
                &json!({"hall": hall, "group": group}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    /// The groups that have live halls, by name.
    pub async fn groups(&self) -> Result<Vec<Group>, StoreError> {
        let c = self.conn().await?;
        Ok(c.query(
            "SELECT group_name, count(*) FROM halls
             WHERE group_name IS NOT NULL AND revoked_at IS NULL
             GROUP BY group_name ORDER BY group_name",
            &[],
        )
        .await?
        .iter()
        .map(|r| Group {
            name: r.get(0),
            halls: r.get(1),
        })
        .collect())
    }

    /// Record a checked document as the next version, for every hall (`group` `None`) or one
    /// group's, with an audit row in the same transaction; the new version.
    pub async fn publish(
        &self,
        group: Option<&str>,
        document: &Value,
        toml: &str,
        by: &str,
    ) -> Result<i64, PublishError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(StoreError::from)?;
        // Versions are handed out one at a time: two operators publishing at once get two numbers.
        tx.execute("SELECT pg_advisory_xact_lock(7361003)", &[])
            .await
            .map_err(StoreError::from)?;
        let halls: i64 = tx
            .query_one(
                "SELECT count(*) FROM halls
                 WHERE revoked_at IS NULL AND ($1::text IS NULL OR group_name = $1)",
                &[&group],
            )
            .await
            .map_err(StoreError::from)?
            .get(0);
        if let Some(g) = group
            && halls == 0
        {
            return Err(PublishError::NoSuchGroup(g.to_string()));
        }
        let version: i64 = tx
            .query_one(
                "SELECT coalesce(max(version), 0) + 1 FROM publications",
                &[],
            )
            .await
            .map_err(StoreError::from)?
            .get(0);
        tx.execute(
            "INSERT INTO publications (version, group_name, document, toml, published_by)
             VALUES ($1, $2, $3, $4, $5)",
            &[&version, &group, document, &toml, &by],
        )
        .await
        .map_err(StoreError::from)?;
        audit(
            &tx,
            by,
            "publish",
            &json!({"version": version, "group": group, "halls": halls}),
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(version)
    }

    /// The newest versions first, at most `limit`.
    pub async fn publications(&self, limit: i64) -> Result<Vec<Publication>, StoreError> {
        let c = self.conn().await?;
        let rows = c
            .query(
                &format!(
                    "WITH latest AS (
                         SELECT h.id, {LATEST_FOR_HALL} AS version,
                                CASE WHEN jsonb_typeof(s.body->'config_version') = 'number'
                                       THEN (s.body->>'config_version')::numeric
                                     WHEN s.body->>'config_version' ~ '^[0-9]{{1,18}}$'
                                       THEN (s.body->>'config_version')::numeric
                                END AS running
                         FROM halls h LEFT JOIN hall_status s ON s.hall_id = h.id
                         WHERE h.revoked_at IS NULL)
                     SELECT p.version, p.group_name, p.document, p.toml, p.published_by,
                            p.published_at,
                            (SELECT count(*) FROM latest l WHERE l.version = p.version),
                            (SELECT count(*) FROM latest l
                              WHERE l.version = p.version AND l.running = p.version)
                     FROM publications p ORDER BY p.version DESC LIMIT $1"
                ),
                &[&limit],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| Publication {
                version: r.get(0),
                group: r.get(1),
                document: r.get(2),
                toml: r.get(3),
                published_by: r.get(4),
                published_at: r.get(5),
                halls: r.get(6),
                halls_running: r.get(7),
            })
            .collect())
    }

    /// What applies to hall `hall_id` now: the latest version for every hall or for its group.
    pub async fn published_for(&self, hall_id: i64) -> Result<Option<(i64, Value)>, StoreError> {
        let c = self.conn().await?;
        Ok(c.query_opt(
            "SELECT p.version, p.document FROM publications p, halls h
             WHERE h.id = $1 AND (p.group_name IS NULL OR p.group_name = h.group_name)
             ORDER BY p.version DESC LIMIT 1",
            &[&hall_id],
        )
        .await?
        .map(|r| (r.get(0), r.get(1))))
    }

    /// The audit log, newest first (tests and the operator's checks).
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<(String, String, Value)>, StoreError> {
        let c = self.conn().await?;
        Ok(c.query(
            "SELECT actor, action, detail FROM audit ORDER BY id DESC LIMIT $1",
            &[&limit],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
    }
}

pub(super) async fn audit(
    tx: &tokio_postgres::Transaction<'_>,
    actor: &str,
    action: &str,
    detail: &Value,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO audit (actor, action, detail) VALUES ($1, $2, $3)",
        &[&actor, &action, detail],
    )
    .await?;
    Ok(())
}
