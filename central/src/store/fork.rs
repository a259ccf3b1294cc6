//! A hall whose database was restored from an older backup numbers new events with seqs central
//! already holds for events the hall then lost. Central keeps both: the lost events stay under
//! their seqs, and the hall's events from the first one that differs are stored after everything
//! central holds (a fork: hub seqs after `after` are stored at `seq + offset`). A hub knows nothing
//! of this; it ships and hears `stored_through` in its own seqs.

use serde_json::Value;
use tokio_postgres::Transaction;

use super::StoreError;
use crate::wire::WireEvent;

/// A hall's forks, oldest first: hub seqs after `after` (up to the next fork's `after`) are
/// stored at `seq + offset`. Empty for nearly every hall.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Forks(Vec<Fork>, Option<i64>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fork {
    after: i64,
    offset: i64,
}

impl Forks {
    /// Central's seq for the hub's `seq`.
    pub fn central(&self, seq: i64) -> i64 {
        seq + self.offset_at(seq)
    }

    fn offset_at(&self, seq: i64) -> i64 {
        self.0
            .iter()
            .rev()
            .find(|f| f.after < seq)
            .map_or(0, |f| f.offset)
    }

    /// The last hub seq stored with the offset that applies to `seq` (None: no end).
    fn segment_end(&self, seq: i64) -> Option<i64> {
        self.0.iter().find(|f| f.after >= seq).map(|f| f.after)
    }

    /// A fork after hub seq `after`, its events stored from `first_free` on. Forks at or after
    /// it belonged to the history the hall has just lost again.
    fn add(&mut self, after: i64, first_free: i64) {
        self.1 = Some(after);
        self.0.retain(|f| f.after < after);
        self.0.push(Fork {
            after,
            offset: first_free - (after + 1),
        });
    }
}

/// The hall's forks. Called with the hall's status row locked.
pub async fn load(tx: &Transaction<'_>, hall_id: i64) -> Result<Forks, StoreError> {
    let rows = tx
        .query(
            "SELECT after_seq, seq_offset FROM seq_forks WHERE hall_id = $1 ORDER BY after_seq",
            &[&hall_id],
        )
        .await?;
    Ok(Forks(
        rows.iter()
            .map(|r| Fork {
                after: r.get(0),
                offset: r.get(1),
            })
            .collect(),
        None,
    ))
}

/// Give the batch's events (in hub seq order) the seqs central stores them under. An event that
/// comes again is stored once as before; the first one that differs from what central holds
/// under its seq starts a fork. Called with the hall's status row locked.
pub async fn place(
    tx: &Transaction<'_>,
    hall_id: i64,
    events: &mut [WireEvent],
) -> Result<Forks, StoreError> {
    let mut forks = load(tx, hall_id).await?;
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Ok(forks);
    };
    let (lo, hi) = (
        forks.central(first.seq as i64),
        forks.central(last.seq as i64),
    );
    let held = tx
        .query(
            "SELECT seq, at, actor, type, body FROM events
             WHERE hall_id = $1 AND seq BETWEEN $2 AND $3",
            &[&hall_id, &lo, &hi],
        )
        .await?;
    if !held.is_empty() {
        let held: std::collections::HashMap<i64, (i64, String, String, Value)> = held
            .iter()
            .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3), r.get(4))))
            .collect();
        let differs = events.iter().find(|e| {
            held.get(&forks.central(e.seq as i64))
                .is_some_and(|(at, actor, kind, body)| {
                    *at != e.at || *actor != e.actor || kind != e.kind_type() || *body != e.kind
                })
        });
        if let Some(e) = differs {
            let after = e.seq as i64 - 1;
            let top: i64 = tx
                .query_one(
                    "SELECT coalesce(max(seq), 0) FROM events WHERE hall_id = $1",
                    &[&hall_id],
                )
                .await?
                .get(0);
            forks.add(after, top + 1);
            tx.execute(
                "DELETE FROM seq_forks WHERE hall_id = $1 AND after_seq >= $2",
                &[&hall_id, &after],
            )
            .await?;
            tx.execute(
                "INSERT INTO seq_forks (hall_id, after_seq, seq_offset) VALUES ($1, $2, $3)",
                &[&hall_id, &after, &forks.offset_at(after + 1)],
            )
            .await?;
            tracing::warn!(
                hall_id,
                after_seq = after,
                stored_from = top + 1,
                "this hall's events after seq {after} differ from those central holds under the same seqs (its database was restored from an older backup, or a second hub ships on its credential): central keeps both, the hall's new ones from seq {} on",
                top + 1
            );
        }
    }
    for e in events.iter_mut() {
        e.seq = forks.central(e.seq as i64) as u64;
    }
    Ok(forks)
}

/// The highest hub seq up to which central holds every event of the hall, given that it holds
/// every one up to `through` (hub seqs).
pub async fn stored_through(
    tx: &Transaction<'_>,
    hall_id: i64,
    forks: &Forks,
    mut through: i64,
) -> Result<i64, StoreError> {
    // A fork made by this batch: what was held after it is the lost history, not the hall's.
    if let Some(after) = forks.1 {
        through = through.min(after);
    }
    loop {
        let next = through + 1;
        let end = forks.segment_end(next);
        // Within one segment hub and central seqs differ by one offset: count the central seqs
        // held without a hole from the next one on.
        let from = forks.central(next) - 1;
        let upto = end.map_or(i64::MAX, |e| forks.central(e));
        let reached: i64 = tx
            .query_one(
                "SELECT coalesce(max(seq), $2) FROM (
                     SELECT seq, row_number() OVER (ORDER BY seq) AS n
                     FROM events WHERE hall_id = $1 AND seq > $2 AND seq <= $3) s
                 WHERE seq = $2 + n",
                &[&hall_id, &from, &upto],
            )
            .await?
            .get(0);
        through += reached - from;
        match end {
            Some(e) if through == e => continue,
            _ => return Ok(through),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seqs_after_a_fork_are_stored_after_what_central_held() {
        let mut f = Forks::default();
        assert_eq!(f.central(7), 7);
        // Central held 1..=90; the hall came back from a backup taken at 80.
        f.add(80, 91);
        assert_eq!(f.central(80), 80);
        assert_eq!(f.central(81), 91);
        assert_eq!(f.segment_end(50), Some(80));
        assert_eq!(f.segment_end(81), None);
        // Central then held up to 120 (the hall's 81..=110); it came back from a backup at 100.
        f.add(100, 121);
        assert_eq!(f.central(100), 110);
        assert_eq!(f.central(101), 121);
        // And once more from the backup at 60: the two later forks were history lost again.
        f.add(60, 131);
        assert_eq!(f.0.len(), 1);
        assert_eq!(f.central(60), 60);
        assert_eq!(f.central(61), 131);
    }
}
