//! The phone numbers of callbacks a hub ships beside a batch, only once central's answer says head
//! office turned them on for the hall (docs/central.md, "Phone numbers"): those of the callbacks
//! the batch's events captured, and once after the switch turns on, those of every callback not
//! resolved. Never a number the hall's own retention has deleted or would delete now.

use rusqlite::params;
use serde::Serialize;
use serde_json::Value;

use super::shipping::ShipEvent;
use super::{Store, StoreError};
use crate::hall::Millis;

/// One callback's number as central takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShipPhone {
    /// The callback's id, as its `callback_captured` event carries it.
    pub id: i64,
    pub phone: String,
}

/// The ids of the callbacks these events captured.
pub fn captured_callbacks(events: &[ShipEvent]) -> Vec<i64> {
    events
        .iter()
        .filter(|e| e.kind.get("type").and_then(Value::as_str) == Some("callback_captured"))
        .filter_map(|e| e.kind.get("id").and_then(Value::as_i64))
        .collect()
}

impl Store {
    /// The numbers of the callbacks `ids` that the hall still holds, leaving out those resolved
    /// before `resolved_after`: the hall's retention deletes them (it runs once a day, so a row
    /// may still be here).
    pub fn callback_phones(
        &self,
        ids: &[i64],
        resolved_after: Millis,
    ) -> Result<Vec<ShipPhone>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, phone FROM callbacks
             WHERE id = ?1 AND NOT (status = 'resolved' AND resolved_at < ?2)",
        )?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let rows = st.query_map(params![id, resolved_after], |r| {
                Ok(ShipPhone {
                    id: r.get(0)?,
                    phone: r.get(1)?,
                })
            })?;
            for r in rows {
                out.push(r?);
            }
        }
        Ok(out)
    }

    /// The numbers of every callback not resolved, oldest first.
    pub fn open_callback_phones(&self) -> Result<Vec<ShipPhone>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, phone FROM callbacks WHERE status != 'resolved' ORDER BY id",
        )?;
        let rows = st.query_map([], |r| {
            Ok(ShipPhone {
                id: r.get(0)?,
                phone: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};

    use chrono::NaiveDate;

    use super::*;
    use crate::config::HallConfig;
    use crate::engine::{Actor, Command};
    use crate::hall::CallbackStatus;
    use crate::protocol::Role;
    use crate::store::writer::{HallWriter, WriterOptions};

    #[test]
    fn numbers_of_captured_and_open_callbacks_but_none_past_retention() {
        let dir = tempfile::tempdir().unwrap();
        let path = super::super::db_path(dir.path());
        let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let mut store = Store::open(&path).unwrap();
        let hall = store.load_hall(&HallConfig::demo(), day).unwrap();
        let nine = day
            .and_hms_opt(1, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        let clock = Arc::new(AtomicI64::new(nine));
        let c = clock.clone();
        let writer = HallWriter::start(
            store,
            hall,
            Arc::new(move || c.load(Ordering::SeqCst)),
            WriterOptions {
                tick_every: std::time::Duration::from_secs(3600),
                max_batch: 64,
            },
            |_| {},
        );
        let clerk = Actor::new("clerk1", Role::Staff, Some(1));
        for phone in ["13812345678", "13912345678", "027-87654321"] {
            writer
                .execute(
                    Command::CaptureCallback {
                        phone: phone.into(),
                        consent: true,
                        ticket: None,
                        address: None,
                        reason: None,
                    },
                    clerk.clone(),
                )
                .unwrap();
        }
        // #1 resolved at 09:30; #2 contacted; #3 pending.
        clock.store(nine + 1_800_000, Ordering::SeqCst);
        for (id, status) in [
            (1, CallbackStatus::Resolved),
            (2, CallbackStatus::Contacted),
        ] {
            let (tx, rx) = std::sync::mpsc::channel();
            let note = Some("called back".to_string());
            writer.update_callback(id, Some(status), note, false, clerk.clone(), move |r| {
                let _ = tx.send(r.map(|_| ()));
            });
            rx.recv().unwrap().unwrap();
        }
        drop(writer);

        let store = Store::open_reader(&path).unwrap();
        let batch = store.ship_batch(0, None, 500, nine).unwrap();
        let ids = captured_callbacks(&batch.events);
        assert_eq!(ids, vec![1, 2, 3]);
        let phone = |id: i64, p: &str| ShipPhone {
            id,
            phone: p.into(),
        };
        // Retention would keep #1 until after 09:30 + its days: all three go.
        assert_eq!(
            store.callback_phones(&ids, nine).unwrap(),
            vec![
                phone(1, "13812345678"),
                phone(2, "13912345678"),
                phone(3, "027-87654321")
            ]
        );
        // Past #1's retention: its number is never shipped again, even before retention runs.
        assert_eq!(
            store.callback_phones(&ids, nine + 1_800_001).unwrap(),
            vec![phone(2, "13912345678"), phone(3, "027-87654321")]
        );
        // The ones not resolved, for the switch turning on.
        assert_eq!(
            store.open_callback_phones().unwrap(),
            vec![phone(2, "13912345678"), phone(3, "027-87654321")]
        );
        // A callback the hall has deleted has no number to send.
        assert_eq!(store.callback_phones(&[42], nine).unwrap(), vec![]);
    }
}
