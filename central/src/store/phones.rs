//! The SQL of callbacks' phone numbers at central: the switch per hall (off by default) and its
//! audit rows, the numbers a batch brings while it is on, the audited reading of one number, and
//! their deletion (past the hall's own retention, the switch turned off, the hall revoked).
//!
//! Numbers live only in `callback_phones`: never in `events`, `callbacks` or a rollup. A deletion
//! is followed by `VACUUM (FULL)` of that table, outside any transaction: a plain `VACUUM` leaves
//! the deleted rows' bytes in the table's pages until they are reused, while `FULL` writes the
//! live rows into a new file and removes the old one (docs/central.md says what the WAL and
//! backups keep). Turning the switch off and revoking a hall rewrite the table at once; a batch
//! that deleted numbers past retention leaves the rewrite owed to the next round of the task of
//! `serve` (a minute at most), since the rewrite locks the table against every hall's batches
//! for its time and batches delete often in a province.

use std::sync::atomic::Ordering;

use serde::Serialize;
use serde_json::json;
use tokio_postgres::{GenericClient, Transaction};

use super::{Store, StoreError, publish::audit};
use crate::wire::WirePhones;

const DAY_MS: i64 = 86_400_000;

/// What turning the switch did to one hall.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PhoneSwitch {
    pub hall: String,
    /// The switch before.
    pub was_on: bool,
    /// Numbers deleted (turning off).
    pub deleted: u64,
}

/// A hall's switch as `hall list` and the callbacks page show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PhoneSetting {
    pub hall: String,
    pub on: bool,
    /// The hall's callback_retention_days as its last batch with numbers said.
    pub retention_days: Option<i32>,
    /// Numbers central holds for the hall.
    pub numbers: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum PhoneSwitchError {
    #[error("no live hall named {0:?}")]
    NoSuchHall(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Turn phone numbers on or off for the live hall `hall`, or for every live hall (`None`),
    /// with an audit row per hall whose switch moved (who, why) in the same transaction. Turning
    /// off deletes the hall's numbers at once (and the table is vacuumed before this returns).
    /// Halls registered later start off.
    pub async fn set_callback_phones(
        &self,
        hall: Option<&str>,
        on: bool,
        actor: &str,
        why: &str,
    ) -> Result<Vec<PhoneSwitch>, PhoneSwitchError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await.map_err(StoreError::from)?;
        let halls: Vec<(i64, String, bool)> = tx
            .query(
                "SELECT id, name, callback_phones FROM halls
                 WHERE revoked_at IS NULL AND ($1::text IS NULL OR name = $1) ORDER BY id",
                &[&hall],
            )
            .await
            .map_err(StoreError::from)?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        if let Some(name) = hall
            && halls.is_empty()
        {
            return Err(PhoneSwitchError::NoSuchHall(name.to_string()));
        }
        let mut done = Vec::with_capacity(halls.len());
        for (id, name, was_on) in halls {
            // A batch of this hall in flight holds this lock: it either commits its numbers
            // before they are deleted here, or reads the switch off after this commits.
            lock_hall(&tx, id).await?;
            tx.execute(
                "UPDATE halls SET callback_phones = $2 WHERE id = $1",
                &[&id, &on],
            )
            .await
            .map_err(StoreError::from)?;
            let deleted = if on {
                0
            } else {
                tx.execute("DELETE FROM callback_phones WHERE hall_id = $1", &[&id])
                    .await
                    .map_err(StoreError::from)?
            };
            if was_on != on || deleted > 0 {
                audit(
                    &tx,
                    actor,
                    "callback_phones",
                    &json!({"hall": name, "on": on, "why": why, "deleted": deleted}),
                )
                .await?;
            }
            done.push(PhoneSwitch {
                hall: name,
                was_on,
                deleted,
            });
        }
        tx.commit().await.map_err(StoreError::from)?;
        if done.iter().any(|d| d.deleted > 0) {
            vacuum(&c).await?;
        }
        Ok(done)
    }

    /// Each hall's switch and the numbers held, by name (revoked halls hold none).
    pub async fn callback_phone_settings(&self) -> Result<Vec<PhoneSetting>, StoreError> {
        let c = self.conn().await?;
        Ok(c.query(
            "SELECT h.name, h.callback_phones, h.callback_retention_days,
                    (SELECT count(*) FROM callback_phones p WHERE p.hall_id = h.id)
             FROM halls h WHERE h.revoked_at IS NULL ORDER BY h.name",
            &[],
        )
        .await?
        .iter()
        .map(|r| PhoneSetting {
            hall: r.get(0),
            on: r.get(1),
            retention_days: r.get(2),
            numbers: r.get(3),
        })
        .collect())
    }

    /// The number of callback `id` of `hall`, read by `operator`: the read is written to the
    /// audit log in the same transaction, so no number is shown that is not recorded. `None` when
    /// central holds no number for it (nothing is recorded then).
    pub async fn read_callback_phone(
        &self,
        hall: &str,
        id: i64,
        operator: &str,
    ) -> Result<Option<String>, StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        let phone: Option<String> = tx
            .query_opt(
                "SELECT p.phone FROM callback_phones p JOIN halls h ON h.id = p.hall_id
                 WHERE h.name = $1 AND p.id = $2 AND h.callback_phones AND h.revoked_at IS NULL",
                &[&hall, &id],
            )
            .await?
            .map(|r| r.get(0));
        if phone.is_some() {
            audit(
                &tx,
                operator,
                "callback_phone_read",
                &json!({"hall": hall, "callback": id}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(phone)
    }

    /// Delete, across halls, the numbers whose callback was resolved longer ago than its hall's
    /// retention at `now_ms` (and any left of a hall switched off or revoked), then rewrite the
    /// table if any went here or in a batch since the last rewrite; how many went here.
    pub async fn purge_callback_phones(&self, now_ms: i64) -> Result<u64, StoreError> {
        let c = self.conn().await?;
        let n = delete_expired(&*c, None, now_ms).await?;
        // Taken before the rewrite: a batch deleting meanwhile owes the next one.
        let owed = self.inner.phones_vacuum_owed.swap(false, Ordering::SeqCst);
        if (n > 0 || owed)
            && let Err(e) = vacuum(&c).await
        {
            self.owe_phones_vacuum();
            return Err(e);
        }
        Ok(n)
    }

    /// A batch deleted numbers: the next purge rewrites the table.
    pub(super) fn owe_phones_vacuum(&self) {
        self.inner.phones_vacuum_owed.store(true, Ordering::SeqCst);
    }

    /// Make the table's file hold only live numbers (after a batch's own deletions).
    pub async fn vacuum_callback_phones(&self) -> Result<(), StoreError> {
        let c = self.conn().await?;
        vacuum(&c).await
    }

    /// How many numbers central holds for `hall` (tests and checks).
    pub async fn callback_phone_count(&self, hall: &str) -> Result<i64, StoreError> {
        let c = self.conn().await?;
        Ok(c.query_one(
            "SELECT count(*) FROM callback_phones p JOIN halls h ON h.id = p.hall_id
             WHERE h.name = $1",
            &[&hall],
        )
        .await?
        .get(0))
    }
}

/// The lock a batch of the hall takes first (its status row).
pub(super) async fn lock_hall(tx: &Transaction<'_>, hall_id: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO hall_status (hall_id) VALUES ($1) ON CONFLICT DO NOTHING",
        &[&hall_id],
    )
    .await?;
    tx.execute(
        "SELECT 1 FROM hall_status WHERE hall_id = $1 FOR UPDATE",
        &[&hall_id],
    )
    .await?;
    Ok(())
}

/// Switch a hall's numbers off and delete them, audited as done by the system for `why` when it
/// had any or was on; how many were deleted (the caller vacuums after its commit).
pub(super) async fn forget_hall(
    tx: &Transaction<'_>,
    hall_id: i64,
    hall: &str,
    why: &str,
) -> Result<u64, StoreError> {
    lock_hall(tx, hall_id).await?;
    let was_on: bool = tx
        .query_one(
            "SELECT callback_phones FROM halls WHERE id = $1",
            &[&hall_id],
        )
        .await?
        .get(0);
    tx.execute(
        "UPDATE halls SET callback_phones = false WHERE id = $1",
        &[&hall_id],
    )
    .await?;
    let deleted = tx
        .execute(
            "DELETE FROM callback_phones WHERE hall_id = $1",
            &[&hall_id],
        )
        .await?;
    if was_on || deleted > 0 {
        audit(
            tx,
            "system",
            "callback_phones",
            &json!({"hall": hall, "on": false, "why": why, "deleted": deleted}),
        )
        .await?;
    }
    Ok(deleted)
}

/// In a batch's transaction, after its callback events are applied and holding the hall's lock:
/// whether the hall's switch is on, and if so the numbers the batch brings for callbacks central
/// knows, with the hall's retention. Numbers sent while the switch is off are not stored.
pub(super) async fn store_batch_phones(
    tx: &Transaction<'_>,
    hall_id: i64,
    phones: Option<&WirePhones>,
) -> Result<bool, StoreError> {
    let on: bool = tx
        .query_one(
            "SELECT callback_phones FROM halls WHERE id = $1",
            &[&hall_id],
        )
        .await?
        .get(0);
    let Some(p) = phones.filter(|_| on) else {
        return Ok(on);
    };
    let days = i32::try_from(p.retention_days).unwrap_or(i32::MAX);
    tx.execute(
        "UPDATE halls SET callback_retention_days = $2 WHERE id = $1",
        &[&hall_id, &days],
    )
    .await?;
    if !p.numbers.is_empty() {
        let ids: Vec<i64> = p.numbers.iter().map(|n| n.id).collect();
        let numbers: Vec<&str> = p.numbers.iter().map(|n| n.phone.as_str()).collect();
        // A number for a callback whose capture central has not stored yet is dropped: the hub
        // sends it again with that event.
        tx.execute(
            "INSERT INTO callback_phones (hall_id, id, phone)
             SELECT $1, x.id, x.phone FROM UNNEST($2::bigint[], $3::text[]) AS x(id, phone)
             WHERE EXISTS (SELECT 1 FROM callbacks c WHERE c.hall_id = $1 AND c.id = x.id)
             ON CONFLICT (hall_id, id) DO NOTHING",
            &[&hall_id, &ids, &numbers],
        )
        .await?;
    }
    Ok(true)
}

/// Delete the numbers whose callback was resolved more than its hall's retention before
/// `now_ms`, and any of a hall switched off or revoked; of one hall, or of all (`None`).
pub(super) async fn delete_expired<C: GenericClient>(
    c: &C,
    hall_id: Option<i64>,
    now_ms: i64,
) -> Result<u64, StoreError> {
    Ok(c.execute(
        "DELETE FROM callback_phones p USING halls h
         WHERE h.id = p.hall_id AND ($1::bigint IS NULL OR p.hall_id = $1)
           AND (NOT h.callback_phones OR h.revoked_at IS NOT NULL
                OR EXISTS (SELECT 1 FROM callbacks c
                           WHERE c.hall_id = p.hall_id AND c.id = p.id
                             AND c.resolved_at < $2 - coalesce(h.callback_retention_days, 0)::bigint * $3))",
        &[&hall_id, &now_ms, &DAY_MS],
    )
    .await?)
}

/// `VACUUM (FULL)`: rewrites the table (a few kilobytes to megabytes) into a new file and drops the
/// old one, so that deleted numbers are not left in free space. It locks the table for that time.
async fn vacuum(c: &tokio_postgres::Client) -> Result<(), StoreError> {
    c.batch_execute("VACUUM (FULL) callback_phones").await?;
    Ok(())
}
