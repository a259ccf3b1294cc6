//! When a hall's rollups are recomputed. A batch into the hall's current business day only marks
//! that day in `hall_days_dirty`; `refresh_rollups`, run by `hallq-central serve` every few seconds
//! and once more when it stops, recomputes a marked day at most once a [`REFRESH_EVERY`]. Any other
//! day a batch touches (late history, a backlog after days offline) is recomputed in the batch's
//! own transaction.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use hallq_shared::report::Period;
use serde_json::Value;
use tokio::task::JoinSet;
use tokio_postgres::Transaction;

use super::{Store, StoreError, refresh_days};
use crate::rollup::REFRESH_EVERY;

/// Days recomputed at once by one refresh: each holds a connection for its transaction.
const REFRESH_PARALLEL: usize = 4;

/// The hall as its hub last reported it (the latest batch's status, or the one before when a
/// batch carried none): its business day, whether an outage goes on, and its clock (ms), which is
/// what an outage going on is counted up to; central's own clock when the hub never said.
struct HallNow {
    day: Option<NaiveDate>,
    outage: bool,
    at: i64,
}

async fn hall_now(tx: &Transaction<'_>, hall_id: i64) -> Result<HallNow, StoreError> {
    let row = tx
        .query_opt(
            "SELECT body->>'day', coalesce(body->'outage' <> 'null'::jsonb, false), body->'at'
             FROM hall_status WHERE hall_id = $1",
            &[&hall_id],
        )
        .await?;
    let Some(r) = row else {
        return Ok(HallNow {
            day: None,
            outage: false,
            at: Utc::now().timestamp_millis(),
        });
    };
    Ok(HallNow {
        day: r
            .get::<_, Option<String>>(0)
            .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
        outage: r.get(1),
        at: r
            .get::<_, Option<Value>>(2)
            .and_then(|v| v.as_i64())
            .unwrap_or_else(|| Utc::now().timestamp_millis()),
    })
}

/// What to do with the rollups of the days a batch touched, in the batch's transaction, after the
/// hall's status row has taken the batch's status.
pub(super) async fn after_batch(
    tx: &Transaction<'_>,
    hall_id: i64,
    touched: &BTreeSet<NaiveDate>,
) -> Result<(), StoreError> {
    let hall = hall_now(tx, hall_id).await?;
    let now: Vec<NaiveDate> = touched
        .iter()
        .copied()
        .filter(|d| Some(*d) != hall.day)
        .collect();
    // An outage going on lengthens today's figure with no event: its heartbeats mark the day too.
    let mark = hall.day.filter(|d| touched.contains(d) || hall.outage);
    if let Some(day) = mark {
        // An update, not `DO NOTHING`, so that the mark's row is locked to this commit: a refresh
        // taking the mark meanwhile waits for this batch and then reads its rows.
        tx.execute(
            "INSERT INTO hall_days_dirty (hall_id, day) VALUES ($1, $2)
             ON CONFLICT (hall_id, day) DO UPDATE SET batches = hall_days_dirty.batches + 1",
            &[&hall_id, &day],
        )
        .await?;
    }
    if !now.is_empty() {
        tx.execute(
            "DELETE FROM hall_days_dirty WHERE hall_id = $1 AND day = ANY($2)",
            &[&hall_id, &now],
        )
        .await?;
        refresh_days(tx, hall_id, &now, hall.at).await?;
    }
    Ok(())
}

impl Store {
    /// Recompute the marked days whose rollup is at least `min_age` old (`Duration::ZERO`: every
    /// marked day), a few at once; the number of days recomputed. `hallq-central serve` calls it
    /// every few seconds with [`REFRESH_EVERY`] and with zero when it stops.
    pub async fn refresh_rollups(&self, min_age: Duration) -> Result<usize, StoreError> {
        let due: Vec<(i64, NaiveDate)> = self
            .conn()
            .await?
            .query(
                "SELECT m.hall_id, m.day FROM hall_days_dirty m
                 LEFT JOIN hall_days d ON d.hall_id = m.hall_id AND d.day = m.day
                 WHERE d.refreshed_at IS NULL
                    OR d.refreshed_at <= now() - make_interval(secs => $1)
                 ORDER BY m.marked_at",
                &[&min_age.as_secs_f64()],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let mut running = JoinSet::new();
        let mut done = 0;
        let mut failed = None;
        let mut finished = |r: Result<Result<bool, StoreError>, tokio::task::JoinError>| match r {
            Ok(Ok(refreshed)) => done += usize::from(refreshed),
            Ok(Err(e)) => failed = Some(e),
            Err(e) => failed = Some(StoreError::Corrupt(format!("a rollup refresh failed: {e}"))),
        };
        for (hall_id, day) in due {
            if running.len() >= REFRESH_PARALLEL
                && let Some(r) = running.join_next().await
            {
                finished(r);
            }
            let store = self.clone();
            running.spawn(async move { store.refresh_day(hall_id, day).await });
        }
        while let Some(r) = running.join_next().await {
            finished(r);
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(done),
        }
    }

    /// Recompute one marked day; `false` when another refresh took the mark first.
    async fn refresh_day(&self, hall_id: i64, day: NaiveDate) -> Result<bool, StoreError> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        // The mark goes first and its row stays locked to the commit: a batch marking the day
        // meanwhile waits, then marks it again for the next refresh; a batch that committed
        // before is in the rows read below.
        let taken = tx
            .execute(
                "DELETE FROM hall_days_dirty WHERE hall_id = $1 AND day = $2",
                &[&hall_id, &day],
            )
            .await?;
        if taken == 0 {
            return Ok(false);
        }
        let hall = hall_now(&tx, hall_id).await?;
        refresh_days(&tx, hall_id, &[day], hall.at).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// How many days of `period` (of live halls) wait for a refresh, and the instant up to which
    /// the rollups hold everything stored: the oldest mark's, or now when none waits.
    pub async fn rollups_pending(
        &self,
        period: Period,
    ) -> Result<(u32, DateTime<Utc>), StoreError> {
        let r = self
            .conn()
            .await?
            .query_one(
                "SELECT count(*), coalesce(min(m.marked_at), now()) FROM hall_days_dirty m
                 JOIN halls h ON h.id = m.hall_id
                 WHERE m.day BETWEEN $1 AND $2 AND h.revoked_at IS NULL",
                &[&period.from, &period.to],
            )
            .await?;
        Ok((
            u32::try_from(r.get::<_, i64>(0)).unwrap_or(u32::MAX),
            r.get(1),
        ))
    }
}

/// The refresh of `hallq-central serve`: every few seconds, the marked days due. Errors are
/// logged and tried again at the next round.
pub async fn refresh_loop(store: Store) {
    let mut every = tokio::time::interval(Duration::from_secs(5));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match store.refresh_rollups(REFRESH_EVERY).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(days = n, "rollups refreshed"),
            Err(e) => tracing::warn!(error = %e, "refreshing rollups failed: tried again shortly"),
        }
    }
}
